defmodule Cppnode.NodeLifecycleTest do
  # The start-up and shutdown paths of Cppnode.Node against real OS processes that are not
  # a C node (shell scripts): they fail or hang the ways a broken executable would.
  use ExUnit.Case, async: false

  import ExUnit.CaptureLog
  import Cppnode.TestNode

  @moduletag :tmp_dir

  setup do
    # start_link links; a failed init exits with its reason, which must not kill the test.
    Process.flag(:trap_exit, true)
    :ok
  end

  defp script!(dir, body) do
    path = Path.join(dir, "fake_cppnode")
    File.write!(path, "#!/bin/sh\n" <> body)
    File.chmod!(path, 0o755)
    path
  end

  test "a missing executable is an error naming it" do
    assert Cppnode.Node.start_link(executable: "/nonexistent/dir/cppnode") ==
             {:error, {:executable_not_found, "/nonexistent/dir/cppnode"}}
  end

  test "a bad option is an error naming it" do
    assert {:error, {:bad_option, message}} =
             Cppnode.Node.start_link(executable: "/bin/true", listen_port: -1)

    assert message =~ ":listen_port"
  end

  test "a file that cannot be executed is an error naming it, and leaves no cookie behind",
       %{tmp_dir: dir} do
    path = Path.join(dir, "not_executable")
    File.write!(path, "not a program")
    File.chmod!(path, 0o644)
    cookie_parent = Path.join(dir, "tmp")
    File.mkdir!(cookie_parent)
    previous = System.get_env("TMPDIR")
    System.put_env("TMPDIR", cookie_parent)

    try do
      assert {:error, {:cannot_start, ^path, message}} = Cppnode.Node.start_link(executable: path)
      assert message =~ "eacces"
    after
      if previous, do: System.put_env("TMPDIR", previous), else: System.delete_env("TMPDIR")
    end

    assert File.ls!(cookie_parent) == [], "the cookie directory was left behind"
  end

  test "an executable that exits during start-up is an error, and its output is logged",
       %{tmp_dir: dir} do
    exe =
      script!(dir, ~s(echo "[2024-01-01 00:00:00.000] [error] cannot bind port" >&2\nexit 3\n))

    log =
      capture_log(fn ->
        assert Cppnode.Node.start_link(executable: exe, servers: [:kv_store]) ==
                 {:error, {:cppnode_exited, 3}}
      end)

    assert log =~ "[error]"
    assert log =~ "cannot bind port"
    assert log =~ "exited during start-up with status 3"
  end

  test "it passes its arguments and a private cookie file, and a start-up timeout kills the process",
       %{tmp_dir: dir} do
    exe =
      script!(dir, """
      echo $$ > "#{dir}/pid"
      printf '%s\\n' "$@" > "#{dir}/args"
      cat "$HOME/.erlang.cookie" > "#{dir}/cookie"
      stat -c %a "$HOME/.erlang.cookie" > "#{dir}/cookie_mode"
      stat -c %a "$HOME" > "#{dir}/home_mode"
      echo "$HOME" > "#{dir}/home"
      echo "EXTRA=$EXTRA" > "#{dir}/env"
      touch "#{dir}/done"
      exec sleep 600
      """)

    name = unique_name("fake")

    assert {:error, {:startup_timeout, details}} =
             Cppnode.Node.start_link(
               executable: exe,
               node_name: name,
               servers: [:kv_store, :counter],
               env: [{"EXTRA", "yes"}],
               extra_args: ["--rate-limit", "7"],
               startup_timeout: 3_000
             )

    assert details[:connected] == false
    assert details[:missing] == [:kv_store, :counter]
    assert File.exists?(Path.join(dir, "done")), "the script did not run to its end"

    os_pid = dir |> Path.join("pid") |> File.read!() |> String.trim() |> String.to_integer()
    refute os_alive?(os_pid), "OS process #{os_pid} survived the failed start"

    assert File.read!(Path.join(dir, "args")) |> String.split("\n", trim: true) ==
             ["--sname", name, "--connect", Atom.to_string(node()), "--rate-limit", "7"]

    cookie = Atom.to_string(Node.get_cookie())
    assert File.read!(Path.join(dir, "cookie")) == cookie
    assert File.read!(Path.join(dir, "cookie_mode")) == "600\n"
    assert File.read!(Path.join(dir, "home_mode")) == "700\n"
    assert File.read!(Path.join(dir, "env")) == "EXTRA=yes\n"

    home = dir |> Path.join("home") |> File.read!() |> String.trim()
    refute File.exists?(home), "the cookie directory #{home} was left behind"
  end

  test "a process that ignores SIGTERM is killed with SIGKILL", %{tmp_dir: dir} do
    exe =
      script!(dir, """
      echo $$ > "#{dir}/pid"
      trap '' TERM
      exec sleep 600
      """)

    log =
      capture_log(fn ->
        assert {:error, {:startup_timeout, _}} =
                 Cppnode.Node.start_link(
                   executable: exe,
                   node_name: unique_name("fake"),
                   servers: [],
                   startup_timeout: 1_000,
                   stop_timeout: 300
                 )
      end)

    assert log =~ "ignored SIGTERM; sending SIGKILL"
    os_pid = dir |> Path.join("pid") |> File.read!() |> String.trim() |> String.to_integer()
    refute os_alive?(os_pid)
  end

  test "the cookie is not on the command line and not in the log in :arg mode either",
       %{tmp_dir: dir} do
    exe = script!(dir, ~s(echo "[info] got cookie $2 $4 $6"\nexit 1\n))
    cookie = Atom.to_string(Node.get_cookie())

    log =
      capture_log(fn ->
        assert {:error, {:cppnode_exited, 1}} =
                 Cppnode.Node.start_link(
                   executable: exe,
                   node_name: unique_name("fake"),
                   cookie_mode: :arg
                 )
      end)

    assert log =~ "got cookie"
    assert log =~ "--cookie ********"
    refute log =~ cookie
  end
end
