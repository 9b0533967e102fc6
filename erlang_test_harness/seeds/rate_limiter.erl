%% SPDX-License-Identifier: Apache-2.0
%% The Erlang seed module rate_limiter (seed 003), unchanged apart from start_link/2 accepting
%% any gen_server name (the harness registers it globally).
-module(rate_limiter).
-behaviour(gen_server).
-export([start_link/2, allow/1]).
-export([init/1, handle_call/3, handle_info/2]).

start_link(Name, MaxPerSecond) when is_atom(Name) ->
    gen_server:start_link({local, Name}, ?MODULE, MaxPerSecond, []);
start_link(Name, MaxPerSecond) ->
    gen_server:start_link(Name, ?MODULE, MaxPerSecond, []).

allow(Name) ->
    gen_server:call(Name, allow).

init(MaxPerSecond) ->
    erlang:send_after(1000, self(), reset),
    {ok, #{max => MaxPerSecond, remaining => MaxPerSecond}}.

handle_call(allow, _From, #{remaining := 0} = State) ->
    {reply, {error, rate_limited}, State};
handle_call(allow, _From, #{remaining := N} = State) ->
    {reply, ok, State#{remaining => N - 1}}.

handle_info(reset, #{max := Max} = State) ->
    erlang:send_after(1000, self(), reset),
    {noreply, State#{remaining => Max}}.
