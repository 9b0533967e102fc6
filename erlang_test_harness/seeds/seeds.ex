# SPDX-License-Identifier: Apache-2.0
# The Elixir seed modules as the seed documents give them (Counter and KVStore from seed 000,
# Stack from seed 001, Hashmap from seed 004) and ShoppingCart, the exercise of seed 000 solved
# as issue 5 specifies it. Only the start functions differ: they take gen_server options so the
# harness can register each one under a global name of its choosing.

defmodule Counter do
  use GenServer

  def start_link(initial_count \\ 0, opts \\ [name: __MODULE__]) do
    GenServer.start_link(__MODULE__, initial_count, opts)
  end

  def increment(amount \\ 1) do
    GenServer.cast(__MODULE__, {:increment, amount})
  end

  def get_count do
    GenServer.call(__MODULE__, :get_count)
  end

  @impl true
  def init(initial_count) do
    {:ok, initial_count}
  end

  @impl true
  def handle_cast({:increment, amount}, count) do
    {:noreply, count + amount}
  end

  @impl true
  def handle_call(:get_count, _from, count) do
    {:reply, count, count}
  end
end

defmodule Stack do
  use GenServer

  def start_link(default, opts \\ []) when is_list(default) do
    GenServer.start_link(__MODULE__, default, opts)
  end

  def push(pid, element) do
    GenServer.cast(pid, {:push, element})
  end

  def pop(pid) do
    GenServer.call(pid, :pop)
  end

  @impl true
  def init(stack) do
    {:ok, stack}
  end

  @impl true
  def handle_call(:pop, _from, [head | tail]) do
    {:reply, head, tail}
  end

  @impl true
  def handle_cast({:push, element}, state) do
    {:noreply, [element | state]}
  end
end

defmodule KVStore do
  use GenServer

  def start_link(opts \\ []) do
    name = Keyword.get(opts, :name, __MODULE__)
    GenServer.start_link(__MODULE__, %{}, name: name)
  end

  def put(server \\ __MODULE__, key, value) do
    GenServer.call(server, {:put, key, value})
  end

  def get(server \\ __MODULE__, key) do
    GenServer.call(server, {:get, key})
  end

  def delete(server \\ __MODULE__, key) do
    GenServer.cast(server, {:delete, key})
  end

  def keys(server \\ __MODULE__) do
    GenServer.call(server, :keys)
  end

  @impl true
  def init(initial_state) do
    {:ok, initial_state}
  end

  @impl true
  def handle_call({:put, key, value}, _from, state) do
    new_state = Map.put(state, key, value)
    {:reply, :ok, new_state}
  end

  @impl true
  def handle_call({:get, key}, _from, state) do
    {:reply, Map.get(state, key), state}
  end

  @impl true
  def handle_call(:keys, _from, state) do
    {:reply, Map.keys(state), state}
  end

  @impl true
  def handle_cast({:delete, key}, state) do
    {:noreply, Map.delete(state, key)}
  end
end

defmodule Hashmap do
  use GenServer

  def start_link(inital_state \\ %{}, opts \\ [name: __MODULE__]) do
    GenServer.start_link(__MODULE__, inital_state, opts)
  end

  @impl true
  def init(initial_state) do
    {:ok, initial_state}
  end

  @impl true
  def handle_call({:get, key}, _from, state) do
    value = Map.get(state, key)
    {:reply, value, state}
  end

  @impl true
  def handle_call({:get, key, default}, _from, state) do
    value = Map.get(state, key, default)
    {:reply, value, state}
  end

  @impl true
  def handle_call({:get_all}, _from, state) do
    {:reply, state, state}
  end

  @impl true
  def handle_call({:update, key, value}, _from, state) do
    new_state = Map.put(state, key, value)
    {:reply, :ok, new_state}
  end

  @impl true
  def handle_call({:put, key, value}, _from, state) do
    new_state = Map.put(state, key, value)
    {:reply, :ok, new_state}
  end

  @impl true
  def handle_cast({:delete, key}, state) do
    new_state = Map.delete(state, key)
    {:noreply, new_state}
  end
end

defmodule ShoppingCart do
  use GenServer

  # The state is the list of {item, price} tuples, as the exercise's hint says; the inactivity
  # timer and its length live in the process dictionary.
  @default_timeout 30 * 60 * 1000

  def start_link(opts \\ []) do
    {timeout, opts} = Keyword.pop(opts, :inactivity_timeout, @default_timeout)
    GenServer.start_link(__MODULE__, timeout, Keyword.put_new(opts, :name, __MODULE__))
  end

  def add_item(item, price), do: GenServer.call(__MODULE__, {:add_item, item, price})
  def remove_item(item), do: GenServer.call(__MODULE__, {:remove_item, item})
  def list_items, do: GenServer.call(__MODULE__, :list_items)
  def total, do: GenServer.call(__MODULE__, :total)
  def clear, do: GenServer.cast(__MODULE__, :clear)

  @impl true
  def init(timeout) do
    Process.put(:inactivity_timeout, timeout)
    {:ok, []}
  end

  @impl true
  def handle_call({:add_item, item, price}, _from, items) do
    touch()
    {:reply, :ok, items ++ [{item, price}]}
  end

  def handle_call({:remove_item, item}, _from, items) do
    touch()
    {:reply, :ok, List.keydelete(items, item, 0)}
  end

  def handle_call(:list_items, _from, items) do
    {:reply, items, items}
  end

  def handle_call(:total, _from, items) do
    {:reply, Enum.reduce(items, 0, fn {_item, price}, sum -> sum + price end), items}
  end

  @impl true
  def handle_cast(:clear, _items) do
    {:noreply, []}
  end

  @impl true
  def handle_info(:inactivity_timeout, _items) do
    Process.delete(:inactivity_timer)
    {:noreply, []}
  end

  # Restarts the inactivity timer: every add or remove counts as activity.
  defp touch do
    if timer = Process.get(:inactivity_timer), do: Process.cancel_timer(timer)
    timer = Process.send_after(self(), :inactivity_timeout, Process.get(:inactivity_timeout))
    Process.put(:inactivity_timer, timer)
  end
end
