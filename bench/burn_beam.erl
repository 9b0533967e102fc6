%% SPDX-License-Identifier: Apache-2.0
%% The BEAM side of bench/run's CPU-bound servers: K gen_servers burn_1..burn_K, each answering
%% `burn` with `ok` after a loop that takes BurnUs microseconds of CPU, as bench/burn_node.cpp
%% does in C++. The loop's length is calibrated once at start (a wall-clock spin would do less
%% work when its process is preempted).
-module(burn_beam).
-behaviour(gen_server).
-export([start/2, init/1, handle_call/3, handle_cast/2]).

%% Starts the servers and keeps the calling process (the node's -eval) alive.
start(K, BurnUs) ->
    Iterations = round(iterations_per_us() * BurnUs),
    %% What one loop takes here, alone on its scheduler: the mean of 50 (bench/run prints it
    %% beside the C++ one, to show the two loops cost the same).
    {Us, _} = timer:tc(fun() -> [spin(Iterations, 0) || _ <- lists:seq(1, 50)] end),
    io:format("loop_us ~.1f~n", [Us / 50]),
    [{ok, _} = gen_server:start({local, list_to_atom("burn_" ++ integer_to_list(I))}, ?MODULE,
                                Iterations, [])
     || I <- lists:seq(1, K)],
    receive after infinity -> ok end.

init(Iterations) -> {ok, Iterations}.

handle_call(burn, _From, Iterations) ->
    spin(Iterations, 0),
    {reply, ok, Iterations}.

handle_cast(_, Iterations) -> {noreply, Iterations}.

spin(0, X) -> X;
spin(N, X) -> spin(N - 1, X + N).

%% Iterations of spin/2 per microsecond on this machine: the best of 500 probes of ~100 us, so
%% that a probe or two without interruption is enough even on a busy machine.
iterations_per_us() ->
    Probe = 20000,
    lists:max([begin
                   T0 = erlang:monotonic_time(nanosecond),
                   spin(Probe, 0),
                   Probe * 1000 / max(erlang:monotonic_time(nanosecond) - T0, 1)
               end || _ <- lists:seq(1, 500)]).
