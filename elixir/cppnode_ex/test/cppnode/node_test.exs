defmodule Cppnode.NodeTest do
  # Starts the real cppnode executable (CPPNODE_EXECUTABLE) beside this test node, under a
  # supervisor as an application would, and calls its C++ servers by {:global, name}.
  use ExUnit.Case, async: false

  import ExUnit.CaptureLog
  import Cppnode.TestNode

  alias Cppnode.Client

  @servers Cppnode.seed_servers()

  setup do
    # Fails (never skips) every test here when the executable is missing.
    %{exe: executable!()}
  end

  defp start_tree!(exe, opts) do
    children = [{Cppnode.Node, [executable: exe] ++ opts}]
    # A restart can race the old node's epmd registration; allow a few attempts.
    sup_opts = [strategy: :one_for_one, max_restarts: 10, max_seconds: 10]

    start_supervised!(%{
      id: :app_tree,
      type: :supervisor,
      start: {Supervisor, :start_link, [children, sup_opts]}
    })
  end

  defp node_server(sup) do
    [{Cppnode.Node, pid, :worker, _}] = Supervisor.which_children(sup)
    pid
  end

  test "start_link returns once every server is registered; kv_store answers", %{exe: exe} do
    sup = start_tree!(exe, [])
    server = node_server(sup)
    cpp_node = Cppnode.Node.node_name(server)

    assert Atom.to_string(cpp_node) =~ ~r/^cppnode_cppnode_ex_test_/

    for name <- @servers do
      pid = Client.whereis(name)
      assert is_pid(pid), "#{inspect(name)} is not registered"
      assert node(pid) == cpp_node
    end

    assert Client.call(:kv_store, {:put, "a", 1}) == :ok
    assert Client.call(:kv_store, {:get, "a"}) == 1
    assert Client.call(:kv_store, {:get, "b"}, 1_000) == nil
    assert Client.cast(:kv_store, {:delete, "a"}) == :ok
    wait_until(fn -> Client.call(:kv_store, {:get, "a"}) == nil end, 10_000, "the delete cast")
  end

  test "the cookie reaches the C node without appearing on its command line", %{exe: exe} do
    cookie = Atom.to_string(Node.get_cookie())

    log =
      capture_log(fn ->
        sup = start_tree!(exe, node_name: unique_name("cpp"), servers: [:counter])
        os_pid = Cppnode.Node.os_pid(node_server(sup))

        cmdline = File.read!("/proc/#{os_pid}/cmdline")
        refute cmdline =~ cookie

        # The private cookie directory is gone once the C node is connected.
        home =
          "/proc/#{os_pid}/environ"
          |> File.read!()
          |> String.split(<<0>>)
          |> Enum.find_value(fn
            "HOME=" <> home -> home
            _ -> nil
          end)

        assert home =~ "cppnode-cookie-"
        refute File.exists?(home)

        assert is_integer(Client.call(:counter, :get_count))
      end)

    assert log =~ "started cppnode"
    refute log =~ cookie
  end

  test "cookie_mode: :arg works too", %{exe: exe} do
    sup = start_tree!(exe, node_name: unique_name("cpp"), servers: [:kv_store], cookie_mode: :arg)
    os_pid = Cppnode.Node.os_pid(node_server(sup))
    assert File.read!("/proc/#{os_pid}/cmdline") =~ "--cookie"
    assert Client.call(:kv_store, {:put, :k, :v}) == :ok
  end

  test "a killed C node is restarted and its names registered again", %{exe: exe} do
    sup = start_tree!(exe, node_name: unique_name("cpp"))
    server = node_server(sup)
    old_os_pid = Cppnode.Node.os_pid(server)
    old_kv = Client.whereis(:kv_store)
    assert Client.call(:kv_store, {:put, "a", 1}) == :ok

    {new_server, log} =
      with_log(fn ->
        os_kill(old_os_pid, "KILL")

        wait_until(
          fn ->
            case Supervisor.which_children(sup) do
              [{_, pid, _, _}] when is_pid(pid) and pid != server -> pid
              _ -> nil
            end
          end,
          60_000,
          "the supervisor to restart Cppnode.Node"
        )
      end)

    # The crash report names the exit status and prints the state, without the cookie.
    assert log =~ "{:cppnode_exited, 137}"
    refute log =~ Atom.to_string(Node.get_cookie())

    refute Process.alive?(server)
    refute os_alive?(old_os_pid)
    new_os_pid = Cppnode.Node.os_pid(new_server)
    assert new_os_pid != old_os_pid
    assert os_alive?(new_os_pid)

    cpp_node = Cppnode.Node.node_name(new_server)

    for name <- @servers do
      pid = Client.whereis(name)
      assert is_pid(pid) and node(pid) == cpp_node, "#{inspect(name)} is not registered again"
    end

    new_kv = Client.whereis(:kv_store)
    assert new_kv != old_kv
    # A new process starts from its initial state.
    assert Client.call(:kv_store, {:get, "a"}) == nil
    assert Client.call(:kv_store, {:put, "a", 2}) == :ok
    assert Client.call(:kv_store, {:get, "a"}) == 2
  end

  test "stopping the application stops the OS process and the names go", %{exe: exe} do
    sup = start_tree!(exe, node_name: unique_name("cpp"))
    os_pid = Cppnode.Node.os_pid(node_server(sup))
    assert os_alive?(os_pid)

    assert :ok = stop_supervised(:app_tree)

    refute os_alive?(os_pid), "OS process #{os_pid} is still running after the app stopped"

    wait_until(
      fn -> Enum.all?(@servers, &(Client.whereis(&1) == nil)) end,
      30_000,
      "the global names to be unregistered"
    )

    assert catch_exit(Client.call(:kv_store, {:get, "a"}, 1_000)) ==
             {:noproc, {GenServer, :call, [{:global, :kv_store}, {:get, "a"}, 1_000]}}
  end
end
