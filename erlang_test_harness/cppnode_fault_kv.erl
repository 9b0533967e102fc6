%% The seed KVStore's protocol as a plain gen_server, registered as kv_store on a BEAM node, so
%% that a fault test can do to the BEAM exactly what it does to the C node's kv_store.
-module(cppnode_fault_kv).
-behaviour(gen_server).
-export([start/0, init/1, handle_call/3, handle_cast/2]).

start() ->
    {ok, Pid} = gen_server:start({local, kv_store}, ?MODULE, #{}, []),
    Pid.

init(State) -> {ok, State}.

handle_call({put, Key, Value}, _From, State) -> {reply, ok, State#{Key => Value}};
handle_call({get, Key}, _From, State) -> {reply, maps:get(Key, State, nil), State}.

handle_cast(_Request, State) -> {noreply, State}.
