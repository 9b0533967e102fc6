defmodule Cppnode.TestNode do
  @moduledoc false
  # Helpers shared by the tests: a distributed test node, the executable under test,
  # waiting for conditions and looking at OS processes.

  import Bitwise
  import ExUnit.Assertions

  @doc "Makes this VM a distributed node with a unique short name and a random cookie."
  def start_distribution! do
    ensure_epmd!()
    name = :"cppnode_ex_test_#{System.pid()}_#{System.unique_integer([:positive])}"

    case Node.start(name, :shortnames) do
      {:ok, _} -> :ok
      {:error, reason} -> raise "cannot make the test VM a distributed node: #{inspect(reason)}"
    end

    # A cookie unlike ~/.erlang.cookie proves the C node got ours.
    random = Integer.to_string(:rand.uniform(1 <<< 62), 36)
    Node.set_cookie(:"test_cookie_#{random}")
    :ok
  end

  # run_tests.sh starts a private epmd and exports ERL_EPMD_PORT; a bare `mix test` uses
  # the default epmd, started the way `erl -sname` would start it.
  defp ensure_epmd! do
    epmd = System.find_executable("epmd") || raise "epmd not found on PATH"

    case System.cmd(epmd, ["-names"], stderr_to_stdout: true) do
      {_, 0} ->
        :ok

      _ ->
        {out, status} = System.cmd(epmd, ["-daemon"], stderr_to_stdout: true)
        if status != 0, do: raise("epmd -daemon failed (#{status}): #{out}")
        wait_until(fn -> match?({_, 0}, System.cmd(epmd, ["-names"], stderr_to_stdout: true)) end)
    end
  end

  @doc "The executable under test; fails the test when CPPNODE_EXECUTABLE is unset or wrong."
  def executable! do
    case System.get_env("CPPNODE_EXECUTABLE") do
      nil ->
        flunk("""
        CPPNODE_EXECUTABLE is not set. These tests start the real cppnode executable: \
        build it (cmake --build build --target cppnode) and run \
        CPPNODE_EXECUTABLE=$PWD/build/app/cppnode elixir/cppnode_ex/run_tests.sh \
        from the repository root.\
        """)

      "" ->
        flunk(
          "CPPNODE_EXECUTABLE is set but empty; it must be the path of the cppnode executable"
        )

      path ->
        path = Path.expand(path)

        unless File.regular?(path) do
          flunk("CPPNODE_EXECUTABLE=#{path} is not a file; build cppnode first")
        end

        path
    end
  end

  @doc "Calls `fun` until it returns a truthy value, failing after `timeout` ms."
  def wait_until(fun, timeout \\ 30_000, what \\ "condition") do
    deadline = System.monotonic_time(:millisecond) + timeout
    do_wait_until(fun, deadline, what)
  end

  defp do_wait_until(fun, deadline, what) do
    case fun.() do
      result when result not in [nil, false] ->
        result

      _ ->
        if System.monotonic_time(:millisecond) > deadline do
          flunk("timed out waiting for #{what}")
        else
          Process.sleep(25)
          do_wait_until(fun, deadline, what)
        end
    end
  end

  @doc "True while the OS process `pid` exists and is not a zombie (Linux /proc)."
  def os_alive?(pid) when is_integer(pid) do
    case File.read("/proc/#{pid}/stat") do
      {:ok, stat} ->
        # "pid (comm) S ..." — comm may hold spaces and parentheses, so split after the last ")".
        rest = stat |> String.split(")") |> List.last()
        not String.starts_with?(String.trim_leading(rest), "Z")

      {:error, _} ->
        false
    end
  end

  @doc "Sends `signal` (e.g. \"KILL\") to the OS process `pid`."
  def os_kill(pid, signal) when is_integer(pid) do
    {_, 0} = System.cmd("kill", ["-#{signal}", Integer.to_string(pid)])
    :ok
  end

  @doc "A unique name for a C node."
  def unique_name(prefix), do: "#{prefix}_#{System.pid()}_#{System.unique_integer([:positive])}"
end
