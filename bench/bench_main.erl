%% SPDX-License-Identifier: Apache-2.0
%% Runs on the client node of bench/run: measures the C++ kv_store and the seed Elixir KVStore
%% under the same load in the same run and prints one table row per figure.
-module(bench_main).
-export([main/1]).

%% Args: [CppNode, BeamNode, CppOsPid, BeamOsPid, SecondsPerRun]
main([CppNode, BeamNode, CppOsPid, BeamOsPid, Secs]) ->
    ok = wait_ping(list_to_atom(BeamNode), 60),
    ok = wait_ping(list_to_atom(CppNode), 60),
    Cpp = {kv_store, list_to_integer(CppOsPid)},
    Beam = {beam_kv_store, list_to_integer(BeamOsPid)},
    _ = bench_load:wait_global(kv_store, 30000),
    _ = bench_load:wait_global(beam_kv_store, 30000),
    Ms = list_to_integer(Secs) * 1000,
    io:format("| figure | C++ | BEAM | ratio |~n|---|---:|---:|---:|~n"),
    lists:foreach(
      fun(C) ->
              {RC, RB} = both(fun({Name, Os}) -> bench_load:calls(Name, C, Ms, Os) end, Cpp, Beam),
              row(io_lib:format("calls/s, ~p callers", [C]), calls_per_s, RC, RB, higher),
              row(io_lib:format("server CPU us/call, ~p callers", [C]), cpu_us_per_call, RC, RB, lower),
              row(io_lib:format("client node CPU us/call, ~p callers", [C]), client_cpu_us_per_call, RC, RB, lower),
              row(io_lib:format("machine CPU busy %, ~p callers", [C]), machine_busy_pct, RC, RB, lower),
              case C of
                  8 -> ok;
                  _ ->
                      row(io_lib:format("p50 latency us, ~p callers", [C]), p50_us, RC, RB, lower),
                      row(io_lib:format("p99 latency us, ~p callers", [C]), p99_us, RC, RB, lower)
              end
      end, [1, 8, 64]),
    lists:foreach(
      fun(C) ->
              PerSender = 200000 div C,
              {RC, RB} = both(fun({Name, Os}) -> bench_load:casts(Name, C, PerSender, Os) end, Cpp, Beam),
              row(io_lib:format("casts/s, ~p senders", [C]), casts_per_s, RC, RB, higher),
              row(io_lib:format("server CPU us/cast, ~p senders", [C]), cpu_us_per_cast, RC, RB, lower)
      end, [1, 8, 64]),
    row("idle node RSS KiB", rss, #{rss => bench_load:rss_kib(element(2, Cpp))},
        #{rss => bench_load:rss_kib(element(2, Beam))}, lower),
    halt(0).

wait_ping(Node, 0) -> {no_answer_from, Node};
wait_ping(Node, Tries) ->
    case net_adm:ping(Node) of
        pong -> ok;
        pang -> timer:sleep(500), wait_ping(Node, Tries - 1)
    end.

%% The same measurement, C++ server first, then the BEAM one.
both(F, Cpp, Beam) ->
    RC = F(Cpp),
    RB = F(Beam),
    {RC, RB}.

%% ratio > 1 means C++ is better: C++/BEAM for "higher is better", BEAM/C++ for "lower is better".
row(Label, Key, RC, RB, Better) ->
    C = maps:get(Key, RC),
    B = maps:get(Key, RB),
    Ratio = case Better of
                higher when B > 0 -> C / B;
                lower when C > 0 -> B / C;
                _ -> 0.0
            end,
    io:format("| ~s | ~s | ~s | ~.2fx |~n", [Label, fmt(C), fmt(B), Ratio]).

fmt(X) when is_integer(X) -> integer_to_list(X);
fmt(X) when X >= 100 -> integer_to_list(round(X));
fmt(X) -> float_to_list(X, [{decimals, 2}]).
