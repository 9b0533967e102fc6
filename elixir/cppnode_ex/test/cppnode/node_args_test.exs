defmodule Cppnode.NodeArgsTest do
  use ExUnit.Case, async: true

  alias Cppnode.Node, as: CNode

  describe "build_args/4" do
    test "defaults: a short name derived from this node, connected to this node, no cookie" do
      assert CNode.build_args([], :app@host, false, "secret") ==
               ["--sname", "cppnode_app", "--connect", "app@host"]
    end

    test "long names follow this node's host" do
      assert CNode.build_args([], :"app@host.example.com", true, "secret") ==
               ["--name", "cppnode_app@host.example.com", "--connect", "app@host.example.com"]
    end

    test "every option becomes its flag, the cookie only in :arg mode" do
      opts = [
        node_name: :mycpp,
        connect: [:a@h, :b@h],
        cookie_mode: :arg,
        listen_port: 4000,
        log_level: :debug,
        extra_args: ["--rate-limit", "5"]
      ]

      assert CNode.build_args(opts, :app@h, false, "secret") == [
               "--sname",
               "mycpp",
               "--connect",
               "a@h",
               "--connect",
               "b@h",
               "--cookie",
               "secret",
               "--port",
               "4000",
               "--log-level",
               "debug",
               "--rate-limit",
               "5"
             ]

      refute "secret" in CNode.build_args(
               Keyword.delete(opts, :cookie_mode),
               :app@h,
               false,
               "secret"
             )
    end

    test "Logger's :warning level is spdlog's warn" do
      assert CNode.build_args([log_level: :warning], :app@h, false, "c") |> Enum.take(-2) ==
               ["--log-level", "warn"]
    end

    test "a node name with a host is passed as given" do
      assert ["--sname", "x@other" | _] =
               CNode.build_args([node_name: "x@other"], :app@h, false, "c")

      assert CNode.cpp_node_name([node_name: "x@other"], :app@h) == "x@other"
      assert CNode.cpp_node_name([node_name: "x"], :app@h) == "x@h"
    end

    test "bad options are clear errors" do
      assert_raise ArgumentError, ~r/listen_port/, fn ->
        CNode.build_args([listen_port: 70_000], :app@h, false, "c")
      end

      assert_raise ArgumentError, ~r/extra_args/, fn ->
        CNode.build_args([extra_args: [:not_a_string]], :app@h, false, "c")
      end

      assert_raise ArgumentError, ~r/node_name/, fn ->
        CNode.cpp_node_name([node_name: ""], :app@h)
      end
    end
  end

  describe "line_level/1" do
    test "reads spdlog's level markers" do
      assert CNode.line_level("[2024-01-01 10:00:00.000] [debug] tick") == :debug
      assert CNode.line_level("[2024-01-01 10:00:00.000] [trace] x") == :debug
      assert CNode.line_level("[2024-01-01 10:00:00.000] [info] up") == :info
      assert CNode.line_level("[2024-01-01 10:00:00.000] [warning] slow") == :warning
      assert CNode.line_level("[x] [error] refused") == :error
      assert CNode.line_level("[x] [critical] abort") == :critical
    end

    test "lines without a marker are info" do
      assert CNode.line_level("plain text") == :info
    end
  end

  test "the child spec restarts the node and leaves time to stop it" do
    spec = CNode.child_spec(stop_timeout: 1_000, id: :cpp)
    assert spec.id == :cpp
    assert spec.restart == :permanent
    assert spec.shutdown > 1_000
    assert spec.start == {CNode, :start_link, [[stop_timeout: 1_000, id: :cpp]]}
  end

  doctest Cppnode
end
