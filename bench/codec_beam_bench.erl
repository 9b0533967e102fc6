%% SPDX-License-Identifier: Apache-2.0
%%
%% Times binary_to_term/1 and term_to_binary/1 on the BEAM over the same bytes as
%% bench/codec_bench.cpp (the golden corpus and the bench_* messages in it), and, given the
%% CSV output of codec_bench, prints both side by side with the ratio BEAM time / our time.
%%   erlc -o /tmp bench/codec_beam_bench.erl &&
%%   erl -noshell -pa /tmp -run codec_beam_bench main tests/data/etf_corpus.txt [ours.csv]
-module(codec_beam_bench).
-export([main/1]).

-define(WORKLOADS, ["corpus", "gen_call", "gen_reply", "small_map", "int_list", "binary_1k",
                    "records"]).
-define(MIN_NS, 400000000).
-define(REPETITIONS, 5).

main([CorpusFile | Rest]) ->
    Records = read_corpus(CorpusFile),
    Ours = case Rest of
               [Csv] -> read_csv(Csv);
               [] -> #{}
           end,
    io:format("~-22s ~14s ~14s ~8s~n", ["best ns per pass", "BEAM", "cppnode", "ratio"]),
    [begin
         Inputs = inputs(W, Records),
         report("decode/" ++ W, time_decode(Inputs), Ours),
         report("encode/" ++ W, time_encode([binary_to_term(B) || B <- Inputs]), Ours)
     end || W <- ?WORKLOADS],
    io:format("OTP ~s, erts ~s, ~s~n",
              [erlang:system_info(otp_release), erlang:system_info(version),
               erlang:system_info(system_architecture)]),
    halt(0).

report(Name, BeamNs, Ours) ->
    case maps:find(Name ++ "_min", Ours) of
        {ok, OurNs} ->
            io:format("~-22s ~14.1f ~14.1f ~7.2fx~n", [Name, BeamNs, OurNs, BeamNs / OurNs]);
        error ->
            io:format("~-22s ~14.1f ~14s~n", [Name, BeamNs, "-"])
    end.

read_corpus(File) ->
    {ok, Bin} = file:read_file(File),
    [{binary_to_list(Name), binary:decode_hex(Hex)}
     || <<"T\t", Line/binary>> <- binary:split(Bin, <<"\n">>, [global]),
        [Name, Hex | _] <- [binary:split(Line, <<"\t">>, [global])]].

inputs("corpus", Records) ->
    [B || {Name, B} <- Records, not lists:prefix("bench_", Name)];
inputs(W, Records) ->
    [B || {Name, B} <- Records, Name =:= "bench_" ++ W].

%% Google Benchmark CSV: name,iterations,real_time,cpu_time,time_unit,...
read_csv(File) ->
    {ok, Bin} = file:read_file(File),
    maps:from_list(
      [{lists:flatten(string:replace(binary_to_list(string:trim(Name, both, "\"")),
                                     "/repeats:5", "")),
        to_ns(number(Real), Unit)}
       || Line <- binary:split(Bin, <<"\n">>, [global]),
          [Name, _Iters, Real, _Cpu, Unit | _] <- [binary:split(Line, <<",">>, [global])],
          Name =/= <<"name">>]).

number(B) ->
    try binary_to_float(B) catch error:badarg -> float(binary_to_integer(B)) end.

to_ns(T, <<"ns">>) -> T;
to_ns(T, <<"us">>) -> T * 1.0e3;
to_ns(T, <<"ms">>) -> T * 1.0e6;
to_ns(T, <<"s">>) -> T * 1.0e9.

time_decode(Inputs) -> measure(fun() -> [binary_to_term(B) || B <- Inputs] end).

time_encode(Terms) -> measure(fun() -> [term_to_binary(T) || T <- Terms] end).

%% ns per pass: the best of several runs (two noisy cores), each in a fresh process repeating
%% passes for 0.4 s after a warm-up.
measure(Pass) ->
    lists:min([measure_once(Pass) || _ <- lists:seq(1, ?REPETITIONS)]).

measure_once(Pass) ->
    Self = self(),
    Pid = spawn_link(fun() -> Pass(), Self ! {self(), loop(Pass, 0, now_ns(), 0)} end),
    receive {Pid, Ns} -> Ns end.

loop(_Pass, N, _Start, Elapsed) when Elapsed >= ?MIN_NS ->
    Elapsed / N;
loop(Pass, N, Start, _) ->
    Pass(),
    loop(Pass, N + 1, Start, now_ns() - Start).

now_ns() -> erlang:monotonic_time(nanosecond).
