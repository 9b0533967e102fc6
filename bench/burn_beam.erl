%% SPDX-License-Identifier: Apache-2.0
%% The BEAM side of bench/run's CPU-bound servers: K gen_servers burn_1..burn_K, each answering
%% `burn` with `ok` after spinning for BurnUs microseconds, as bench/burn_node.cpp does in C++.
-module(burn_beam).
-behaviour(gen_server).
-export([start/2, init/1, handle_call/3, handle_cast/2]).

%% Starts the servers and keeps the calling process (the node's -eval) alive.
start(K, BurnUs) ->
    [{ok, _} = gen_server:start({local, list_to_atom("burn_" ++ integer_to_list(I))}, ?MODULE,
                                BurnUs, [])
     || I <- lists:seq(1, K)],
    receive after infinity -> ok end.

init(BurnUs) -> {ok, BurnUs}.

handle_call(burn, _From, BurnUs) ->
    spin(erlang:monotonic_time(microsecond) + BurnUs),
    {reply, ok, BurnUs}.

handle_cast(_, BurnUs) -> {noreply, BurnUs}.

spin(Until) ->
    case erlang:monotonic_time(microsecond) >= Until of
        true -> ok;
        false -> spin(Until)
    end.
