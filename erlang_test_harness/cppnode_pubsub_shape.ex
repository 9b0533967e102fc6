# What a node running `{Phoenix.PubSub, name: Name}` with the default PG2 adapter does on the
# wire, for the live tests: Phoenix.PubSub cannot be installed here. Written for this suite from
# phoenix_pubsub 2.2.0's lib/phoenix/pubsub.ex and lib/phoenix/pubsub/pg2.ex (checked by hand):
# the :pg scope Phoenix.PubSub, one listener per pool group registered under the group's name
# (`Name.Adapter`, `Name.Adapter_2`, ...), broadcasts sent as {:forward_to_local, Topic, Message,
# Dispatcher} to the group's members on other nodes, and subscribers kept in a duplicate-key
# Registry named Name.
defmodule CppnodePubSubShape do
  @scope Phoenix.PubSub

  # Starts the scope (unless running), the registry and the listeners, owned by a process of
  # their own so that they outlive the caller.
  def start(name, pool_size \\ 1) do
    caller = self()

    spawn(fn ->
      case :pg.start_link(@scope) do
        {:ok, _} -> :ok
        {:error, {:already_started, _}} -> :ok
      end

      {:ok, _} = Registry.start_link(keys: :duplicate, name: name)
      for group <- groups(name, pool_size), do: spawn_link(fn -> listen(name, group) end)
      send(caller, {:pubsub_started, name})
      Process.sleep(:infinity)
    end)

    receive do
      {:pubsub_started, ^name} -> :ok
    after
      5_000 -> :timeout
    end
  end

  def groups(name, pool_size) do
    adapter = Module.concat(name, "Adapter")
    [adapter | for(n <- 2..pool_size//1, do: :"#{adapter}_#{n}")]
  end

  def subscribe(name, topic) do
    {:ok, _} = Registry.register(name, topic, nil)
    :ok
  end

  # Phoenix.PubSub.broadcast/3 with the default dispatcher, through the first pool group.
  def broadcast(name, topic, message) do
    forward = {:forward_to_local, topic, message, Phoenix.PubSub}

    for pid <- :pg.get_members(@scope, hd(groups(name, 1))), node(pid) != node() do
      send(pid, forward)
    end

    local_broadcast(name, topic, message)
  end

  def local_broadcast(name, topic, message) do
    Registry.dispatch(name, topic, fn entries -> for {pid, _} <- entries, do: send(pid, message) end)
  end

  defp listen(name, group) do
    Process.register(self(), group)
    :ok = :pg.join(@scope, group, self())
    loop(name)
  end

  defp loop(name) do
    receive do
      {:forward_to_local, topic, message, _dispatcher} -> local_broadcast(name, topic, message)
      _ -> :ok
    end

    loop(name)
  end
end
