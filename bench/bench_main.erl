%% SPDX-License-Identifier: Apache-2.0
%% Runs on the client node of bench/run: measures the C++ kv_store, the seed Elixir KVStore, the
%% plain ei C node and the JInterface node under the same load in the same run and prints one
%% table row per figure, one column per server. Every server is addressed as {Name, Node}.
-module(bench_main).
-export([main/1, burn/1]).

%% Args: [SecondsPerRun, Label1, Node1, Name1, OsPid1, Label2, ...]; the ratio columns compare
%% each of ours (a label starting with "C++") with each of the others.
main([Secs | Specs]) ->
    try run(list_to_integer(Secs) * 1000, servers(Specs)) of
        ok -> halt(0)
    catch
        Class:Reason:Stack ->
            io:format(standard_error, "~nbench FAILED: ~p:~p~n~p~n", [Class, Reason, Stack]),
            halt(1)
    end.

%% Args: [SecondsPerRun, Node, K, Callers, OsPid]: prints "CallsPerSecond ServerCpuUsPerCall" for
%% bench_load:burn/5 against the K CPU-bound servers of Node.
burn([Secs, Node, K, Callers, OsPid]) ->
    try bench_load:burn(list_to_atom(Node), list_to_integer(K), list_to_integer(Callers),
                        list_to_integer(Secs) * 1000, list_to_integer(OsPid)) of
        #{calls_per_s := Calls, cpu_us_per_call := Cpu} ->
            io:format("~.1f ~.1f~n", [Calls, Cpu]),
            halt(0)
    catch
        Class:Reason:Stack ->
            io:format(standard_error, "~nburn bench FAILED: ~p:~p~n~p~n", [Class, Reason, Stack]),
            halt(1)
    end.

servers([Label, Node, Name, OsPid | Rest]) ->
    [#{label => Label, server => {list_to_atom(Name), list_to_atom(Node)},
       os_pid => list_to_integer(OsPid)} | servers(Rest)];
servers([]) -> [].

run(Ms, Servers) ->
    %% Every server answers, and answers right, before anything is timed.
    [bench_load:wait_ready(S, 60000) || #{server := S} <- Servers],
    [bench_load:warm_up(S, min(Ms, 1000)) || #{server := S} <- Servers],
    Labels = [L || #{label := L} <- Servers],
    Pairs = pairs(Labels),
    io:format("| figure |~s~s~n|---|~s~s~n",
              [[[" ", L, " |"] || L <- Labels],
               [[" ", Ours, " vs ", Theirs, " |"] || {Ours, Theirs} <- Pairs],
               ["---:|" || _ <- Servers], ["---:|" || _ <- Pairs]]),
    lists:foreach(
      fun(C) ->
              Rs = best_of_two(fun(S, Os) -> bench_load:calls(S, C, Ms, Os) end, Servers,
                               calls_per_s),
              Row = fun(Label, Key, Better) -> row(io_lib:format(Label, [C]), Key, Rs, Better) end,
              Row("calls/s, ~p callers", calls_per_s, higher),
              Row("server CPU us/call, ~p callers", cpu_us_per_call, lower),
              Row("client node CPU us/call, ~p callers", client_cpu_us_per_call, lower),
              Row("machine CPU busy %, ~p callers", machine_busy_pct, lower),
              Row("p50 latency us, ~p callers", p50_us, lower),
              Row("p99 latency us, ~p callers", p99_us, lower),
              Row("packets/call client->server, ~p callers", pkts_out_per_call, lower),
              Row("packets/call server->client, ~p callers", pkts_in_per_call, lower),
              Row("bytes/call client->server, ~p callers", bytes_out_per_call, lower),
              Row("bytes/call server->client, ~p callers", bytes_in_per_call, lower)
      end, [1, 8, 64]),
    lists:foreach(
      fun(C) ->
              PerSender = 200000 div C,
              Rs = best_of_two(fun(S, Os) -> bench_load:casts(S, C, PerSender, Os) end, Servers,
                               casts_per_s),
              row(io_lib:format("casts/s, ~p senders", [C]), casts_per_s, Rs, higher),
              row(io_lib:format("server CPU us/cast, ~p senders", [C]), cpu_us_per_cast, Rs, lower)
      end, [1, 8, 64]),
    row("idle node RSS KiB", rss,
        [#{label => L, rss => bench_load:rss_kib(Os)} || #{label := L, os_pid := Os} <- Servers],
        lower),
    ok.

%% The same measurement on each server in turn, once in the order given and once in reverse
%% (what ran just before a server, a JVM compiling or collecting for instance, weighs on it), a
%% pause before each; per server, the run with the higher Key, all its figures from that run.
best_of_two(F, Servers, Key) ->
    Round = fun(Order) ->
                    maps:from_list([{L, begin timer:sleep(500), (F(S, Os))#{label => L} end}
                                    || #{label := L, server := S, os_pid := Os} <- Order])
            end,
    First = Round(Servers),
    Second = Round(lists:reverse(Servers)),
    [begin
         A = maps:get(L, First),
         B = maps:get(L, Second),
         case maps:get(Key, A) >= maps:get(Key, B) of true -> A; false -> B end
     end || #{label := L} <- Servers].

%% The ratio columns: each of our servers (a label starting with "C++") against each other one.
pairs(Labels) ->
    Ours = [L || L <- Labels, lists:prefix("C++", L)],
    [{O, T} || O <- Ours, T <- Labels, not lists:prefix("C++", T)].

%% ratio > 1 means ours is better: Ours/Theirs for "higher is better", Theirs/Ours for "lower is
%% better".
row(Label, Key, Rs, Better) ->
    Labels = [L || #{label := L} <- Rs],
    Value = fun(L) -> maps:get(Key, lists:nth(index(L, Labels), Rs)) end,
    Ratio = fun({O, T}) ->
                    case {Better, Value(O), Value(T)} of
                        {higher, A, B} when B > 0 -> A / B;
                        {lower, A, B} when A > 0 -> B / A;
                        _ -> 0.0
                    end
            end,
    io:format("| ~s |~s~s~n",
              [Label, [[" ", fmt(maps:get(Key, R)), " |"] || R <- Rs],
               [io_lib:format(" ~.2fx |", [Ratio(P)]) || P <- pairs(Labels)]]).

index(X, [X | _]) -> 1;
index(X, [_ | T]) -> 1 + index(X, T).

fmt(X) when is_integer(X) -> integer_to_list(X);
fmt(X) when X >= 100 -> integer_to_list(round(X));
fmt(X) -> float_to_list(X, [{decimals, 2}]).
