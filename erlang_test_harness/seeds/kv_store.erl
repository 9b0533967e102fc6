%% SPDX-License-Identifier: Apache-2.0
%% The Erlang seed module kv_store (seed 003), unchanged apart from the start function, which
%% takes the name to register (the harness registers it globally so every node reaches it).
-module(kv_store).
-behaviour(gen_server).
-export([start_link/0, start_link/1, put/2, get/1, delete/1, all/0]).
-export([init/1, handle_call/3, handle_cast/2]).

start_link() ->
    gen_server:start_link({local, ?MODULE}, ?MODULE, [], []).
start_link(Name) ->
    gen_server:start_link(Name, ?MODULE, [], []).

put(Key, Value) ->
    gen_server:call(?MODULE, {put, Key, Value}).
get(Key) ->
    gen_server:call(?MODULE, {get, Key}).
delete(Key) ->
    gen_server:cast(?MODULE, {delete, Key}).
all() ->
    gen_server:call(?MODULE, all).

init([]) ->
    {ok, #{}}.

handle_call({put, Key, Value}, _From, State) ->
    {reply, ok, State#{Key => Value}};
handle_call({get, Key}, _From, State) ->
    Reply = maps:get(Key, State, undefined),
    {reply, Reply, State};
handle_call(all, _From, State) ->
    {reply, State, State};
handle_call(_Request, _From, State) ->
    {reply, {error, unknown_request}, State}.

handle_cast({delete, Key}, State) ->
    {noreply, maps:remove(Key, State)};
handle_cast(_Msg, State) ->
    {noreply, State}.
