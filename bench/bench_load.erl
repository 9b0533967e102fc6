%% SPDX-License-Identifier: Apache-2.0
%% Load driver run on the client node of bench/run: drives the same mixed put/get workload
%% against a GenServer addressed as {Name, Node} and reports throughput, latency, the server OS
%% process's CPU time per request and the packets and bytes per request on the client's
%% distribution connection to the server's node.
-module(bench_load).
-export([calls/4, casts/4, burn/5, check/1, wait_ready/2, warm_up/2, cpu_ticks/1, rss_kib/1]).

-define(KEYS, 1000).

%% Runs Concurrency callers for DurationMs, each doing gen_server:call with 50% {put, K, V}
%% and 50% {get, K} over 1000 binary keys. Returns a map with calls, seconds, calls_per_s,
%% p50_us, p99_us, cpu_us_per_call (server OS process CPU, from /proc), the client node's CPU per
%% call and the dist port's packets and bytes per call each way (see dist_per_call/3).
calls({_, Node} = Server, Concurrency, DurationMs, ServerOsPid) ->
    check(Server),
    warm(Server),
    Dist0 = dist_stat(Node),
    Cpu0 = cpu_ticks(ServerOsPid),
    Client0 = cpu_ticks(list_to_integer(os:getpid())),
    Busy0 = machine_ticks(),
    T0 = erlang:monotonic_time(microsecond),
    Lats = run_callers(Server, Concurrency, T0 + DurationMs * 1000),
    T1 = erlang:monotonic_time(microsecond),
    Cpu1 = cpu_ticks(ServerOsPid),
    Client1 = cpu_ticks(list_to_integer(os:getpid())),
    Busy1 = machine_ticks(),
    Dist1 = dist_stat(Node),
    N = length(Lats),
    Sorted = lists:sort(Lats),
    Secs = (T1 - T0) / 1.0e6,
    maps:merge(
      #{calls => N, seconds => Secs, calls_per_s => N / Secs,
        p50_us => percentile(Sorted, N, 0.50), p99_us => percentile(Sorted, N, 0.99),
        cpu_us_per_call => ticks_to_us(Cpu1 - Cpu0) / max(N, 1),
        client_cpu_us_per_call => ticks_to_us(Client1 - Client0) / max(N, 1),
        machine_busy_pct => busy_pct(Busy0, Busy1)},
      dist_per_call(Dist0, Dist1, N)).

%% Concurrency callers for DurationMs, caller I calling `burn` on burn_(I rem K + 1) at Node:
%% K CPU-bound servers that a node with more than one thread can run in parallel. Returns
%% calls_per_s and the server OS process's CPU per call.
burn(Node, K, Concurrency, DurationMs, ServerOsPid) ->
    Servers = [{list_to_atom("burn_" ++ integer_to_list(I)), Node} || I <- lists:seq(1, K)],
    [wait_burn(S, 50) || S <- Servers],
    Cpu0 = cpu_ticks(ServerOsPid),
    T0 = erlang:monotonic_time(microsecond),
    Deadline = T0 + DurationMs * 1000,
    Parent = self(),
    Pids = [spawn_link(fun() -> Parent ! {done, self(), burn_loop(S, Deadline, 0)} end)
            || I <- lists:seq(1, Concurrency), S <- [lists:nth(I rem K + 1, Servers)]],
    N = lists:sum([receive {done, P, C} -> C end || P <- Pids]),
    T1 = erlang:monotonic_time(microsecond),
    Cpu1 = cpu_ticks(ServerOsPid),
    #{calls_per_s => N / ((T1 - T0) / 1.0e6), cpu_us_per_call => ticks_to_us(Cpu1 - Cpu0) / max(N, 1)}.

%% The node registers with epmd before its servers have started: ask until one answers.
wait_burn(Server, 0) -> exit({no_answer, Server});
wait_burn(Server, Tries) ->
    case catch gen_server:call(Server, burn, 5000) of
        ok -> ok;
        _ -> timer:sleep(200), wait_burn(Server, Tries - 1)
    end.

burn_loop(Server, Deadline, N) ->
    case erlang:monotonic_time(microsecond) >= Deadline of
        true -> N;
        false -> ok = gen_server:call(Server, burn, 30000), burn_loop(Server, Deadline, N + 1)
    end.

%% An untimed load of 8 callers for Ms, the same for every server before its first timed run:
%% warms what compiles while it runs (the JVM's JIT) and opens the connection.
warm_up(Server, Ms) ->
    check(Server),
    warm(Server),
    _ = run_callers(Server, 8, erlang:monotonic_time(microsecond) + Ms * 1000),
    ok.

run_callers(Server, Concurrency, Deadline) ->
    Parent = self(),
    Pids = [spawn_link(fun() -> Parent ! {done, self(), call_loop(Server, Deadline, rand:seed(exsss, {I, 7, 11}), [])} end)
            || I <- lists:seq(1, Concurrency)],
    lists:append([receive {done, P, L} -> L end || P <- Pids]).

%% Each of Concurrency senders casts PerSender {delete, K} messages, then one call that returns
%% after the server has handled them all (messages between two processes stay ordered).
casts(Server, Concurrency, PerSender, ServerOsPid) ->
    check(Server),
    warm(Server),
    Cpu0 = cpu_ticks(ServerOsPid),
    T0 = erlang:monotonic_time(microsecond),
    Parent = self(),
    Pids = [spawn_link(fun() ->
                 cast_loop(Server, PerSender),
                 _ = gen_server:call(Server, {get, key(1)}, 60000),
                 Parent ! {done, self()}
             end) || _ <- lists:seq(1, Concurrency)],
    [receive {done, P} -> ok end || P <- Pids],
    T1 = erlang:monotonic_time(microsecond),
    Cpu1 = cpu_ticks(ServerOsPid),
    N = Concurrency * PerSender,
    Secs = (T1 - T0) / 1.0e6,
    #{casts => N, seconds => Secs, casts_per_s => N / Secs,
      cpu_us_per_cast => ticks_to_us(Cpu1 - Cpu0) / N}.

%% The server answers the protocol: a fresh key is absent, a put of it returns ok and a get then
%% returns exactly what was put (a value with a pid, a reference, a float and an improper list,
%% so that each peer's codec round-trips them). Exits with bench_check_failed otherwise.
check(Server) ->
    Key = {bench_check, make_ref()},
    Value = {self(), make_ref(), 1.5, [a | <<"b">>], erlang:unique_integer()},
    Steps = [{{get, Key}, nil}, {{put, Key, Value}, ok}, {{get, Key}, Value}],
    lists:foreach(
      fun({Req, Want}) ->
              case catch gen_server:call(Server, Req, 5000) of
                  Want -> ok;
                  Got -> exit({bench_check_failed, Server, Req, {wanted, Want}, {got, Got}})
              end
      end, Steps).

%% Waits until Server answers a get (the node is up and the name registered), up to TimeoutMs.
wait_ready(Server, TimeoutMs) when TimeoutMs =< 0 -> exit({no_answer, Server});
wait_ready(Server, TimeoutMs) ->
    case catch gen_server:call(Server, {get, key(1)}, 1000) of
        {'EXIT', _} -> timer:sleep(200), wait_ready(Server, TimeoutMs - 1200);
        _ -> ok
    end.

%% The client's distribution port to Node: packets (send_cnt/recv_cnt) and bytes (send_oct/
%% recv_oct, framing included) as inet counts them.
%% Over TLS the controller is a process, not a port, and inet has no counts for it: zeros (the
%% per-call figures then read 0).
dist_stat(Node) ->
    case lists:keyfind(Node, 1, erlang:system_info(dist_ctrl)) of
        {Node, Port} when is_port(Port) ->
            {ok, Stat} = inet:getstat(Port, [send_cnt, send_oct, recv_cnt, recv_oct]),
            maps:from_list(Stat);
        {Node, _Controller} ->
            #{send_cnt => 0, send_oct => 0, recv_cnt => 0, recv_oct => 0}
    end.

%% Per call: out = client to server, in = server to client.
dist_per_call(D0, D1, N) ->
    Per = fun(K) -> (maps:get(K, D1) - maps:get(K, D0)) / max(N, 1) end,
    #{pkts_out_per_call => Per(send_cnt), bytes_out_per_call => Per(send_oct),
      pkts_in_per_call => Per(recv_cnt), bytes_in_per_call => Per(recv_oct)}.

call_loop(Server, Deadline, Seed, Acc) ->
    case erlang:monotonic_time(microsecond) of
        Now when Now >= Deadline -> Acc;
        Start ->
            {R, Seed1} = rand:uniform_s(2 * ?KEYS, Seed),
            Req = case R > ?KEYS of
                      true -> {put, key(R - ?KEYS), R};
                      false -> {get, key(R)}
                  end,
            _ = gen_server:call(Server, Req, 30000),
            call_loop(Server, Deadline, Seed1, [erlang:monotonic_time(microsecond) - Start | Acc])
    end.

cast_loop(_Server, 0) -> ok;
cast_loop(Server, N) ->
    gen_server:cast(Server, {delete, key(N rem ?KEYS + 1)}),
    cast_loop(Server, N - 1).

warm(Server) ->
    [gen_server:call(Server, {put, key(K), K}) || K <- lists:seq(1, ?KEYS)],
    ok.

key(K) -> <<"key-", (integer_to_binary(K))/binary>>.

percentile(_, 0, _) -> 0;
percentile(Sorted, N, P) -> lists:nth(max(1, min(N, round(P * N))), Sorted).

%% utime + stime of an OS process, in clock ticks (USER_HZ = 100 on Linux).
cpu_ticks(OsPid) ->
    {ok, Bin} = file:read_file("/proc/" ++ integer_to_list(OsPid) ++ "/stat"),
    %% The command name (field 2) may hold spaces; fields after its closing paren are fixed.
    [_, AfterComm] = string:split(Bin, ")", trailing),
    Fields = string:lexemes(AfterComm, " "),
    binary_to_integer(lists:nth(12, Fields)) + binary_to_integer(lists:nth(13, Fields)).

ticks_to_us(Ticks) -> Ticks * 10000.

%% {Busy, Total} clock ticks of all CPUs from /proc/stat (idle and iowait count as not busy).
machine_ticks() ->
    {ok, Bin} = file:read_file("/proc/stat"),
    [Cpu | _] = string:split(Bin, "\n"),
    [_ | Fields] = string:lexemes(Cpu, " "),
    Ticks = [binary_to_integer(F) || F <- Fields],
    Idle = lists:nth(4, Ticks) + lists:nth(5, Ticks),
    Total = lists:sum(Ticks),
    {Total - Idle, Total}.

busy_pct({B0, T0}, {B1, T1}) -> 100 * (B1 - B0) / max(T1 - T0, 1).

rss_kib(OsPid) ->
    {ok, Bin} = file:read_file("/proc/" ++ integer_to_list(OsPid) ++ "/status"),
    [Line] = [L || L <- string:split(Bin, "\n", all), string:prefix(L, "VmRSS:") =/= nomatch],
    [_, Kib | _] = string:lexemes(Line, " \t"),
    binary_to_integer(Kib).
