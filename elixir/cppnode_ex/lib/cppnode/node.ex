defmodule Cppnode.Node do
  @moduledoc """
  Runs the `cppnode` executable as an OS process beside this node, under a supervisor.

  Put it in a supervision tree:

      children = [
        {Cppnode.Node, executable: "/opt/cppnode/bin/cppnode", log_level: :info},
        MyApp.Worker
      ]

      Supervisor.start_link(children, strategy: :rest_for_one)

  What it does:

    * starts the executable through a `Port` (`:spawn_executable`), as a hidden C node named
      `cppnode_<this node's name>` on this node's host, with this node's cookie, told to
      connect to (and stay connected with) this node;
    * returns from `start_link/1` only once the C node is connected and every server listed
      in `:servers` is registered under `{:global, name}` as a process of that C node, so the
      children started after it can call the C++ servers at once;
    * stops with reason `{:cppnode_exited, exit_status}` when the OS process dies, so its
      supervisor starts it again (the new servers start from their initial state);
    * on shutdown sends the OS process `SIGTERM`, then `SIGKILL` after `:stop_timeout`, and
      waits until it is gone;
    * forwards each line the process writes to stderr or stdout to `Logger`, at the level
      named in the line (`[debug]`, `[info]`, `[warning]`, `[error]`, `[critical]`, as
      spdlog prints them; `:info` otherwise), with metadata `cppnode: node_name`.

  This node must be alive (started with `--sname`/`--name` or `Node.start/2`).

  ## Options

    * `:executable` — path of the `cppnode` executable. Default: the `CPPNODE_EXECUTABLE`
      environment variable, else `cppnode` found on `PATH`.
    * `:node_name` — the C node's name, without host (`"cppnode_myapp"`) or with it
      (`"cppnode_myapp@myhost"`). Default: `cppnode_<name part of node()>` on this node's
      host. Short or long names follow this node.
    * `:servers` — global names to wait for before `start_link/1` returns.
      Default: `Cppnode.seed_servers/0`, the servers of the stock executable. `[]` waits only
      for the C node to connect.
    * `:connect` — nodes the C node connects to and stays connected with (`--connect`).
      Default: `[node()]`.
    * `:cookie_mode` — how the cookie (`Node.get_cookie/0`) reaches the C node:
      `:file` (default) or `:arg`. See "The cookie" below.
    * `:listen_port` — TCP port the C node listens on (`--port`). Default: its own choice.
    * `:log_level` — the C node's log level (`--log-level`), e.g. `:debug` or `"info"`.
    * `:extra_args` — more command-line arguments, e.g. `["--rate-limit", "10"]`.
    * `:env` — extra environment variables for the OS process, as `[{"NAME", "value"}]`.
    * `:startup_timeout` — milliseconds to wait for the servers. Default: `30_000`.
      When it passes, the OS process is killed and `start_link/1` returns
      `{:error, {:startup_timeout, details}}` naming the missing servers.
    * `:stop_timeout` — milliseconds between `SIGTERM` and `SIGKILL` on shutdown.
      Default: `5_000`.
    * `:name` — registers this GenServer locally under that name.
    * `:id` — the child spec id (default `Cppnode.Node`); set it to run more than one.

  ## The cookie

  The C node needs this node's cookie, and the cookie must not be readable by other
  users of the machine:

    * `cookie_mode: :file` (default) writes the cookie to `.erlang.cookie` (mode `0600`) in
      a fresh private directory (mode `0700`) under `System.tmp_dir!/0` and starts the
      process with `HOME` set to that directory, where `cppnode` looks for the cookie like
      `erl` does. The directory is removed as soon as the C node has connected (it has read
      the cookie by then), and at the latest when this process stops. Nothing secret
      appears on the command line. The C node's `HOME` is that directory, not yours.
    * `cookie_mode: :arg` passes `--cookie COOKIE` on the command line. Simpler, but any
      local user can read command lines (`ps`, `/proc/PID/cmdline`), so use it only on a
      machine with no untrusted users.

  The cookie is never logged: lines from the C node that contain it have it replaced by
  `********` before they reach `Logger`.

  ## Limits

    * Global names are unique in a cluster: run one `Cppnode.Node` per cluster for a given
      set of server names, or give each executable its own names.
    * If this BEAM is killed with `SIGKILL` it cannot stop the OS process; `cppnode` then
      keeps running until it is stopped by other means.
  """

  use GenServer
  require Logger

  @default_startup_timeout 30_000
  @default_stop_timeout 5_000
  @kill_wait 5_000
  @poll_interval 50
  @max_line 16_384

  @typedoc "An option of `start_link/1`; see the module documentation."
  @type option ::
          {:executable, Path.t()}
          | {:node_name, String.t() | atom()}
          | {:servers, [term()]}
          | {:connect, [node()]}
          | {:cookie_mode, :file | :arg}
          | {:listen_port, :inet.port_number()}
          | {:log_level, atom() | String.t()}
          | {:extra_args, [String.t()]}
          | {:env, [{String.t(), String.t()}]}
          | {:startup_timeout, timeout()}
          | {:stop_timeout, non_neg_integer()}
          | {:name, GenServer.name()}
          | {:id, term()}

  @doc """
  A child spec that restarts the C node whenever it dies (`restart: :permanent`) and gives
  it time to stop cleanly (`shutdown` longer than `:stop_timeout`).
  """
  @spec child_spec([option()]) :: Supervisor.child_spec()
  def child_spec(opts) do
    stop_timeout = Keyword.get(opts, :stop_timeout, @default_stop_timeout)

    %{
      id: Keyword.get(opts, :id, __MODULE__),
      start: {__MODULE__, :start_link, [opts]},
      type: :worker,
      restart: :permanent,
      shutdown: stop_timeout + @kill_wait + 1_000
    }
  end

  @doc """
  Starts the executable and returns `{:ok, pid}` once its servers are registered.

  Returns `{:error, reason}` when it cannot:

    * `{:not_distributed, node()}` — this node is not alive;
    * `{:bad_option, message}`;
    * `{:executable_not_found, path}` or `{:cannot_start, path, message}`;
    * `{:cppnode_exited, status}` — the process ended during start-up (its output is in
      the log);
    * `{:startup_timeout, details}` — the servers were not registered in time; `details`
      names the missing ones.
  """
  @spec start_link([option()]) :: GenServer.on_start()
  def start_link(opts \\ []) do
    {gen_opts, opts} = Keyword.split(opts, [:name])
    GenServer.start_link(__MODULE__, opts, gen_opts)
  end

  @doc "The operating-system PID of the running `cppnode` process."
  @spec os_pid(GenServer.server()) :: non_neg_integer()
  def os_pid(server), do: GenServer.call(server, :os_pid)

  @doc "The node name of the running C node, e.g. `:\"cppnode_myapp@myhost\"`."
  @spec node_name(GenServer.server()) :: node()
  def node_name(server), do: GenServer.call(server, :node_name)

  @doc """
  Stops the C node and this process, as a supervisor shutdown does.

  Under a supervisor with `restart: :permanent` it is started again; use
  `Supervisor.terminate_child/2` to stop it for good.
  """
  @spec stop(GenServer.server(), timeout()) :: :ok
  def stop(server, timeout \\ :infinity), do: GenServer.stop(server, :normal, timeout)

  @doc false
  # The command-line arguments for `opts`, given this node's name and name style.
  @spec build_args(keyword(), node(), boolean(), String.t()) :: [String.t()]
  def build_args(opts, this_node, longnames?, cookie) do
    cpp_node = cpp_node_name(opts, this_node)
    given_host? = opts |> Keyword.get(:node_name, "") |> to_string() |> String.contains?("@")

    name_args =
      cond do
        longnames? -> ["--name", cpp_node]
        # As with `erl -sname name@host`, a host given explicitly is passed on.
        given_host? -> ["--sname", cpp_node]
        true -> ["--sname", name_part(cpp_node)]
      end

    connect_args =
      opts
      |> Keyword.get(:connect, [this_node])
      |> Enum.flat_map(&["--connect", to_string(&1)])

    cookie_args =
      if Keyword.get(opts, :cookie_mode, :file) == :arg, do: ["--cookie", cookie], else: []

    port_args =
      case Keyword.fetch(opts, :listen_port) do
        {:ok, port} when is_integer(port) and port in 0..65_535 ->
          ["--port", Integer.to_string(port)]

        {:ok, other} ->
          raise ArgumentError, "expected :listen_port to be 0..65535, got: #{inspect(other)}"

        :error ->
          []
      end

    level_args =
      case Keyword.fetch(opts, :log_level) do
        # Logger says :warning where cppnode (spdlog) says warn.
        {:ok, level} when level in [:warning, "warning"] -> ["--log-level", "warn"]
        {:ok, level} -> ["--log-level", to_string(level)]
        :error -> []
      end

    extra = Keyword.get(opts, :extra_args, [])

    unless is_list(extra) and Enum.all?(extra, &is_binary/1) do
      raise ArgumentError, "expected :extra_args to be a list of strings, got: #{inspect(extra)}"
    end

    name_args ++ connect_args ++ cookie_args ++ port_args ++ level_args ++ extra
  end

  @doc false
  # The full name of the C node for `opts`, as a string.
  @spec cpp_node_name(keyword(), node()) :: String.t()
  def cpp_node_name(opts, this_node) do
    [this_name, this_host] = this_node |> Atom.to_string() |> String.split("@", parts: 2)

    case opts |> Keyword.get(:node_name, "cppnode_" <> this_name) |> to_string() do
      "" -> raise ArgumentError, "expected :node_name to be a non-empty name, got: \"\""
      name -> if String.contains?(name, "@"), do: name, else: name <> "@" <> this_host
    end
  end

  ## GenServer callbacks

  @impl true
  def init(opts) do
    Process.flag(:trap_exit, true)

    cookie = Node.get_cookie() |> Atom.to_string()

    with :ok <- check_alive(),
         {:ok, args} <- validate_args(opts, cookie),
         {:ok, executable} <- find_executable(opts) do
      cpp_node = cpp_node_name(opts, node())
      servers = Keyword.get(opts, :servers, Cppnode.seed_servers())
      # Names still held by an earlier incarnation of this C node must not count as ready.
      stale = for name <- servers, pid = whereis(name), node_matches?(pid, cpp_node), do: pid

      state = %{
        port: nil,
        os_pid: nil,
        executable: executable,
        cpp_node: String.to_atom(cpp_node),
        servers: servers,
        stale: stale,
        cookie: cookie,
        cookie_dir: nil,
        stop_timeout: Keyword.get(opts, :stop_timeout, @default_stop_timeout),
        partial: []
      }

      case open_port(state, args, opts) do
        {:ok, state} ->
          await_ready(state, Keyword.get(opts, :startup_timeout, @default_startup_timeout))

        {:error, reason, state} ->
          cleanup(state) && {:stop, reason}
      end
    else
      {:error, reason} -> {:stop, reason}
    end
  end

  @impl true
  def handle_call(:os_pid, _from, state), do: {:reply, state.os_pid, state}
  def handle_call(:node_name, _from, state), do: {:reply, state.cpp_node, state}

  @impl true
  def handle_info({port, {:data, data}}, %{port: port} = state) do
    {:noreply, forward_output(data, state)}
  end

  def handle_info({port, {:exit_status, status}}, %{port: port} = state) do
    Logger.error(
      "cppnode #{state.cpp_node} (OS pid #{state.os_pid}) exited with status #{status}",
      cppnode: state.cpp_node
    )

    {:stop, {:cppnode_exited, status}, %{state | port: nil}}
  end

  def handle_info({:EXIT, port, reason}, %{port: port} = state) do
    {:stop, {:cppnode_port_closed, reason}, %{state | port: nil}}
  end

  def handle_info({:EXIT, old_port, _reason}, state) when is_port(old_port) do
    # The port of a process that already reported its exit status.
    {:noreply, state}
  end

  def handle_info(msg, state) do
    Logger.debug("Cppnode.Node ignored an unexpected message: #{inspect(msg)}")
    {:noreply, state}
  end

  # Crash reports and :sys.get_status/1 print the state: never with the cookie in it.
  @impl true
  def format_status(:terminate, [_pdict, state]), do: %{state | cookie: "********"}

  def format_status(_normal, [_pdict, state]),
    do: [data: [{~c"State", %{state | cookie: "********"}}]]

  @impl true
  def terminate(_reason, state) do
    cleanup(state)
  end

  ## Start-up

  defp check_alive do
    if Node.alive?(), do: :ok, else: {:error, {:not_distributed, node()}}
  end

  defp validate_args(opts, cookie) do
    {:ok, build_args(opts, node(), :net_kernel.longnames(), cookie)}
  rescue
    e in ArgumentError -> {:error, {:bad_option, Exception.message(e)}}
  end

  defp find_executable(opts) do
    configured =
      Keyword.get(opts, :executable) || System.get_env("CPPNODE_EXECUTABLE") || "cppnode"

    configured = to_string(configured)

    path =
      if String.contains?(configured, "/"),
        do: Path.expand(configured),
        else: System.find_executable(configured)

    cond do
      path == nil -> {:error, {:executable_not_found, configured}}
      not File.regular?(path) -> {:error, {:executable_not_found, path}}
      true -> {:ok, path}
    end
  end

  defp open_port(state, args, opts) do
    {cookie_env, state} =
      if Keyword.get(opts, :cookie_mode, :file) == :file do
        dir = write_cookie_dir!(state.cookie)
        {[{~c"HOME", String.to_charlist(dir)}], %{state | cookie_dir: dir}}
      else
        {[], state}
      end

    extra_env = for {k, v} <- Keyword.get(opts, :env, []), do: {to_charlist(k), to_charlist(v)}
    spawn_port(state, args, extra_env ++ cookie_env)
  rescue
    e in File.Error -> {:error, {:cannot_start, state.executable, Exception.message(e)}, state}
  end

  # Apart from open_port, so that a spawn that fails returns the state holding the cookie
  # directory, which cleanup then removes.
  defp spawn_port(state, args, env) do
    port_opts = [
      :binary,
      :exit_status,
      :stderr_to_stdout,
      :hide,
      {:line, @max_line},
      {:args, args},
      {:env, env}
    ]

    port = Port.open({:spawn_executable, state.executable}, port_opts)
    {:os_pid, os_pid} = Port.info(port, :os_pid)

    Logger.info(
      "started cppnode #{state.cpp_node} (OS pid #{os_pid}): #{state.executable} " <>
        Enum.join(redact_args(args), " "),
      cppnode: state.cpp_node
    )

    {:ok, %{state | port: port, os_pid: os_pid}}
  rescue
    e in ErlangError -> {:error, {:cannot_start, state.executable, Exception.message(e)}, state}
  end

  defp redact_args(["--cookie", _ | rest]), do: ["--cookie", "********" | redact_args(rest)]
  defp redact_args([arg | rest]), do: [arg | redact_args(rest)]
  defp redact_args([]), do: []

  # A fresh 0700 directory holding a 0600 .erlang.cookie; mkdir refuses existing paths,
  # so nobody can have planted a file or a symlink there.
  defp write_cookie_dir!(cookie) do
    suffix =
      "#{System.pid()}-#{System.unique_integer([:positive])}-#{:rand.uniform(1_000_000_000_000)}"

    dir = Path.join(System.tmp_dir!(), "cppnode-cookie-" <> suffix)
    File.mkdir!(dir)

    try do
      File.chmod!(dir, 0o700)
      file = Path.join(dir, ".erlang.cookie")
      File.write!(file, "", [:exclusive])
      File.chmod!(file, 0o600)
      File.write!(file, cookie)
      dir
    rescue
      e ->
        File.rm_rf(dir)
        reraise e, __STACKTRACE__
    end
  end

  defp await_ready(state, timeout) do
    deadline = if timeout == :infinity, do: :infinity, else: now() + timeout
    await_ready_loop(state, deadline)
  end

  defp await_ready_loop(state, deadline) do
    port = state.port

    if ready?(state) do
      Logger.info("cppnode #{state.cpp_node} is up with #{inspect(state.servers)}",
        cppnode: state.cpp_node
      )

      {:ok, remove_cookie_dir(%{state | stale: []})}
    else
      wait =
        if deadline == :infinity, do: @poll_interval, else: min(@poll_interval, deadline - now())

      if wait <= 0 do
        details = startup_details(state)
        Logger.error("cppnode #{state.cpp_node} did not start in time: #{inspect(details)}")
        cleanup(state)
        {:stop, {:startup_timeout, details}}
      else
        receive do
          {^port, {:data, data}} ->
            await_ready_loop(forward_output(data, state), deadline)

          {^port, {:exit_status, status}} ->
            Logger.error("cppnode #{state.cpp_node} exited during start-up with status #{status}",
              cppnode: state.cpp_node
            )

            cleanup(%{state | port: nil})
            {:stop, {:cppnode_exited, status}}

          {:EXIT, from, reason} when from != port ->
            # Our supervisor is going away while we start: leave nothing behind.
            cleanup(state)
            exit(reason)
        after
          wait -> await_ready_loop(state, deadline)
        end
      end
    end
  end

  defp ready?(state) do
    connected?(state.cpp_node) and Enum.all?(state.servers, &registered_here?(&1, state))
  end

  defp registered_here?(name, state) do
    pid = whereis(name)
    node_matches?(pid, Atom.to_string(state.cpp_node)) and pid not in state.stale
  end

  defp connected?(cpp_node), do: cpp_node in Node.list([:visible, :hidden])

  defp startup_details(state) do
    [
      node: state.cpp_node,
      connected: connected?(state.cpp_node),
      missing: Enum.reject(state.servers, &registered_here?(&1, state)),
      registered_elsewhere:
        for(
          name <- state.servers,
          pid = whereis(name),
          not registered_here?(name, state),
          do: {name, node(pid)}
        )
    ]
  end

  defp whereis(name) do
    case :global.whereis_name(name) do
      pid when is_pid(pid) -> pid
      :undefined -> nil
    end
  end

  defp node_matches?(pid, cpp_node) when is_pid(pid), do: Atom.to_string(node(pid)) == cpp_node
  defp node_matches?(_pid, _cpp_node), do: false

  defp name_part(node_name), do: node_name |> String.split("@", parts: 2) |> hd()

  defp now, do: System.monotonic_time(:millisecond)

  ## Output

  defp forward_output({:noeol, chunk}, state), do: %{state | partial: [state.partial | chunk]}

  defp forward_output({:eol, chunk}, state) do
    line = IO.iodata_to_binary([state.partial | chunk])
    log_line(line, state)
    %{state | partial: []}
  end

  defp log_line(line, state) do
    line = redact_cookie(line, state.cookie)
    Logger.log(line_level(line), line, cppnode: state.cpp_node)
  end

  # Short cookies would turn ordinary words into asterisks; the C node never prints the
  # cookie anyway, this only guards against a slip.
  defp redact_cookie(line, cookie) when byte_size(cookie) >= 6,
    do: String.replace(line, cookie, "********")

  defp redact_cookie(line, _cookie), do: line

  @level_pattern ~r/\[(trace|debug|info|notice|warn|warning|error|err|critical|fatal)\]/i

  @doc false
  # The Logger level for a line of cppnode output, from the first "[level]" in it.
  @spec line_level(String.t()) :: Logger.level()
  def line_level(line) do
    case Regex.run(@level_pattern, line, capture: :all_but_first) do
      [level] -> level |> String.downcase() |> to_logger_level()
      nil -> :info
    end
  end

  defp to_logger_level(level) when level in ["trace", "debug"], do: :debug
  defp to_logger_level(level) when level in ["info", "notice"], do: :info
  defp to_logger_level(level) when level in ["warn", "warning"], do: :warning
  defp to_logger_level(level) when level in ["error", "err"], do: :error
  defp to_logger_level(_critical), do: :critical

  ## Shutdown

  defp cleanup(state) do
    stop_os_process(state)
    remove_cookie_dir(state)
    true
  end

  defp stop_os_process(%{port: nil}), do: :ok

  defp stop_os_process(%{port: port, os_pid: os_pid} = state) do
    # An exit status already waiting means the PID may be reused: never signal it then.
    unless await_exit(port, 0, state) do
      signal(os_pid, "TERM")

      unless await_exit(port, state.stop_timeout, state) do
        Logger.warning(
          "cppnode #{state.cpp_node} (OS pid #{os_pid}) ignored SIGTERM; sending SIGKILL",
          cppnode: state.cpp_node
        )

        signal(os_pid, "KILL")

        unless await_exit(port, @kill_wait, state) do
          Logger.error("cppnode #{state.cpp_node} (OS pid #{os_pid}) survived SIGKILL",
            cppnode: state.cpp_node
          )
        end
      end
    end

    if Port.info(port) != nil, do: safe_close(port)
    :ok
  end

  defp safe_close(port) do
    Port.close(port)
  rescue
    ArgumentError -> :ok
  end

  # Waits for the exit status, which erts sends once the process is gone and reaped.
  defp await_exit(port, timeout, state) do
    await_exit_until(port, now() + timeout, state)
  end

  defp await_exit_until(port, deadline, state) do
    receive do
      {^port, {:data, data}} ->
        await_exit_until(port, deadline, forward_output(data, state))

      {^port, {:exit_status, status}} ->
        Logger.info("cppnode #{state.cpp_node} stopped with status #{status}",
          cppnode: state.cpp_node
        )

        true
    after
      max(deadline - now(), 0) -> false
    end
  end

  defp signal(os_pid, sig) when is_integer(os_pid) do
    :os.cmd(String.to_charlist("kill -#{sig} #{os_pid} 2>/dev/null"))
    :ok
  end

  defp remove_cookie_dir(%{cookie_dir: nil} = state), do: state

  defp remove_cookie_dir(%{cookie_dir: dir} = state) do
    File.rm_rf(dir)
    %{state | cookie_dir: nil}
  end
end
