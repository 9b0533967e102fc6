defmodule Cppnode.Client do
  @moduledoc """
  Thin client for the C++ GenServers that `cppnode` registers under `{:global, name}`.

  These functions are `GenServer.call/3`, `GenServer.cast/2` and `:global.whereis_name/1`
  with the `{:global, name}` wrapping done for you; they behave exactly like them. A C++
  server is an ordinary process to the caller: a call to a server that is not registered
  exits with `:noproc`, a call whose server dies exits at once with the server's reason,
  and a call with no answer within the timeout exits with `:timeout`.

  ## Examples

      iex> Cppnode.Client.call(:kv_store, {:put, "a", 1})
      :ok
      iex> Cppnode.Client.call(:kv_store, {:get, "a"})
      1
      iex> Cppnode.Client.cast(:counter, :increment)
      :ok
      iex> Cppnode.Client.whereis(:no_such_server)
      nil
  """

  @typedoc "A global name a C++ server is registered under, such as `:kv_store`."
  @type name :: term()

  @doc """
  Makes a synchronous call to the server registered as `{:global, name}` and waits up to
  `timeout` milliseconds (or `:infinity`) for its reply.

  Exits like `GenServer.call/3` does: with `{:noproc, _}` when no server has that name,
  `{:timeout, _}` when no reply came in time, or with the server's exit reason when it
  died handling the request.

  ## Examples

      iex> Cppnode.Client.call(:counter, :get_count)
      0
      iex> Cppnode.Client.call(:kv_store, {:get, "missing"}, 1_000)
      nil
  """
  @spec call(name(), term(), timeout()) :: term()
  def call(name, request, timeout \\ 5000) do
    GenServer.call({:global, name}, request, timeout)
  end

  @doc """
  Sends `msg` to the server registered as `{:global, name}` as a cast and returns `:ok`
  at once, whether or not such a server exists (as `GenServer.cast/2` does).

  ## Examples

      iex> Cppnode.Client.cast(:stack, {:push, :world})
      :ok
  """
  @spec cast(name(), term()) :: :ok
  def cast(name, msg) do
    GenServer.cast({:global, name}, msg)
  end

  @doc """
  Returns the pid registered as `{:global, name}`, or `nil` when the name is not registered.

  ## Examples

      iex> pid = Cppnode.Client.whereis(:kv_store)
      iex> node(pid)
      :"cppnode_myapp@myhost"
  """
  @spec whereis(name()) :: pid() | nil
  def whereis(name) do
    case :global.whereis_name(name) do
      pid when is_pid(pid) -> pid
      :undefined -> nil
    end
  end
end
