defmodule Cppnode do
  @moduledoc """
  Run the `cppnode` C node beside an Elixir application and talk to its C++ GenServers.

  `cppnode` is a C++ executable that joins an Erlang cluster as a hidden node and hosts
  GenServers written in C++. They are registered under `{:global, name}`, so any node of
  the cluster reaches them with `GenServer.call/3` and `GenServer.cast/2`, exactly as it
  would reach a BEAM process.

  This package has two parts:

    * `Cppnode.Node` — a child spec for your supervision tree. It starts the executable as
      an OS process with your node's cookie, connects it to your node, waits until its
      global servers are registered, restarts it when it dies and stops it with your app.
    * `Cppnode.Client` — thin `call/3`, `cast/2` and `whereis/1` helpers on
      `{:global, name}`.

  ## Example

      children = [
        {Cppnode.Node, executable: "/opt/cppnode/bin/cppnode"},
        MyApp.Worker
      ]

      Supervisor.start_link(children, strategy: :rest_for_one)

      # once the supervisor is up, the C++ servers answer:
      :ok = Cppnode.Client.call(:kv_store, {:put, "a", 1})
      1 = Cppnode.Client.call(:kv_store, {:get, "a"})
  """

  @seed_servers [
    :counter,
    :stack,
    :kv_store,
    :erl_kv_store,
    :hashmap,
    :rate_limiter,
    :shopping_cart
  ]

  @doc """
  The global names of the servers the stock `cppnode` executable hosts.

  `Cppnode.Node` waits for these unless told otherwise with its `:servers` option.

  ## Examples

      iex> Cppnode.seed_servers()
      [:counter, :stack, :kv_store, :erl_kv_store, :hashmap, :rate_limiter, :shopping_cart]
  """
  @spec seed_servers() :: [atom()]
  def seed_servers, do: @seed_servers
end
