#!/usr/bin/env escript
%% SPDX-License-Identifier: Apache-2.0
%%
%% Records real distribution traffic as fuzzer seeds. It starts a private epmd on a free port of
%% 127.0.0.1 and a recording proxy in front of it; the nodes under test use the proxy as their
%% epmd (ERL_EPMD_PORT). When a node asks the proxy for another node's port (PORT_PLEASE2_REQ),
%% the proxy opens a recording TCP relay to that node and answers with the relay's port, so every
%% distribution connection passes through it. Each relay splits its two byte streams into
%% handshake messages ({packet, 2}) and then distribution packets ({packet, 4}).
%%
%% Traffic: two erl nodes (one calls the other: ping, rpc, erpc, gen_server calls, remote spawn,
%% links, monitors, exits, large terms), a hidden erl node, and, when its path is given, a C node
%% (tests/servers' cppnode_example_node) called from an erl node through {global, Name} and
%% {Name, Node}.
%%
%% Usage (from the repository root, after building cppnode_example_node):
%%   escript tests/data/fuzz_seeds/capture_traffic.escript tests/data/fuzz_seeds \
%%           [build/tests/servers/cppnode_example_node]
%% Writes OUT/{dist,handshake,epmd}/<sha1 of the seed>: dist seeds are runs of whole {packet, 4}
%% packets with their headers (one per packet and runs of consecutive packets of up to 16 KiB),
%% handshake seeds one {packet, 2} message with its header, epmd seeds one answer of epmd.
%% Every process it starts is killed by OS pid at the end.
-mode(compile).

-define(MAX_SEED, 16384).

main([Out | Rest]) ->
    CNode = case Rest of [] -> none; [Path] -> Path end,
    Cookie = "capture_" ++ os:getpid(),
    Suffix = os:getpid(),
    Epmd = start_epmd(),
    {ok, ProxyLs} = gen_tcp:listen(0, [binary, {active, false}, {ip, {127, 0, 0, 1}},
                                       {reuseaddr, true}]),
    {ok, ProxyPort} = inet:port(ProxyLs),
    Main = self(),
    spawn_link(fun() -> epmd_accept(ProxyLs, epmd_port(Epmd), Main) end),
    Host = short_host(),
    B = "capb" ++ Suffix,
    BNode = B ++ "@" ++ Host,
    NodeB = start_node(B, Cookie, ProxyPort, [], "receive after infinity -> ok end"),
    wait_registered(epmd_port(Epmd), B),
    NodeA = start_node("capa" ++ Suffix, Cookie, ProxyPort, [], erl_workload(BNode)),
    wait_exit(NodeA, 60000),
    NodeH = start_node("caph" ++ Suffix, Cookie, ProxyPort, ["-hidden"], hidden_workload(BNode)),
    wait_exit(NodeH, 60000),
    Extra = case CNode of
                none -> [];
                _ -> c_node_traffic(CNode, Cookie, ProxyPort, epmd_port(Epmd), Suffix, Host,
                                    BNode)
            end,
    stop_node(NodeB),
    [stop_node(N) || N <- Extra],
    timer:sleep(1000),
    Streams = collect([]),
    os_kill(Epmd),
    write_seeds(Out, Streams),
    halt(0);
main(_) ->
    io:format(standard_error, "usage: capture_traffic.escript OUT_DIR [CNODE_EXECUTABLE]~n", []),
    halt(2).

%% ---- Workloads, evaluated on the nodes (each line an Erlang expression sequence) ----

erl_workload(B) ->
    "B = '" ++ B ++ "', pong = net_adm:ping(B), "
    "_ = rpc:call(B, erlang, node, []), "
    "_ = rpc:call(B, lists, seq, [1, 3000]), "
    "_ = erpc:call(B, erlang, list_to_binary, [lists:duplicate(70000, $x)]), "
    "_ = erpc:call(B, erlang, make_tuple, [300, {1.5, -7, 1 bsl 100, <<1:3>>, \"str\"}]), "
    "_ = gen_server:call({application_controller, B}, which_applications), "
    "_ = catch gen_server:call({no_such_server, B}, hello, 2000), "
    "_ = catch sys:get_status({logger, B}), "
    "Echo = fun Loop() -> receive {From, X} -> From ! {self(), X}, Loop(); stop -> ok end end, "
    "P = spawn(B, Echo), "
    "M = erlang:monitor(process, P), "
    "true = link(P), "
    "P ! {self(), #{a => 1, <<\"k\">> => [1, 2 | 3], {t} => 2.0, self() => make_ref()}}, "
    "receive {P, _} -> ok end, "
    "P ! {self(), maps:from_list([{I, I * I} || I <- lists:seq(1, 40)])}, "
    "receive {P, _} -> ok end, "
    "P ! {self(), {fun lists:map/2, fun(X) -> X + 1 end, <<0:800000>>}}, "
    "receive {P, _} -> ok end, "
    "true = unlink(P), "
    "erlang:demonitor(M, [flush]), "
    "exit(P, {shutdown, because}), "
    "{P2, M2} = spawn_monitor(B, fun() -> exit({bad, lists:seq(1, 20)}) end), "
    "receive {'DOWN', M2, process, P2, _} -> ok end, "
    "process_flag(trap_exit, true), "
    "P3 = spawn_link(B, fun() -> exit(normal_but_not) end), "
    "receive {'EXIT', P3, _} -> ok end, "
    "{registered_x, B} ! {hello, self()}, "
    "M3 = erlang:monitor(process, {rex, B}), erlang:demonitor(M3), "
    "_ = rpc:call(B, global, register_name, [capture_name, P]), "
    "_ = global:whereis_name(capture_name), "
    "halt().".

hidden_workload(B) ->
    "B = '" ++ B ++ "', pong = net_adm:ping(B), "
    "_ = rpc:call(B, erlang, processes, []), "
    "_ = erpc:call(B, os, getpid, []), "
    "P = spawn(B, fun() -> receive {F, X} -> F ! X end end), "
    "P ! {self(), {hidden, <<\"hello\">>, 1.0e300}}, receive _ -> ok end, "
    "halt().".

%% A C node registered through the proxy, called from a fresh erl node.
c_node_traffic(Exe, Cookie, ProxyPort, EpmdPort, Suffix, Host, BNode) ->
    C = "capc" ++ Suffix,
    CNode = C ++ "@" ++ Host,
    Port = open_port({spawn_executable, Exe},
                     [{args, ["--name", CNode, "--cookie", Cookie, "--connect", BNode]},
                      {env, [{"ERL_EPMD_PORT", integer_to_list(ProxyPort)}]},
                      exit_status, stderr_to_stdout, binary]),
    wait_registered(EpmdPort, C),
    R = start_node("capr" ++ Suffix, Cookie, ProxyPort, [], c_workload(CNode)),
    wait_exit(R, 60000),
    [Port].

c_workload(C) ->
    "C = '" ++ C ++ "', pong = net_adm:ping(C), "
    "Wait = fun W(0) -> undefined; W(N) -> case global:whereis_name(counter) of "
    "  undefined -> timer:sleep(100), global:sync(), W(N - 1); Pid -> Pid end end, "
    "_ = Wait(100), "
    "[gen_server:cast({global, counter}, {increment, I}) || I <- lists:seq(1, 20)], "
    "_ = catch gen_server:call({global, counter}, get_count), "
    "_ = catch gen_server:call({global, kv_store}, {put, <<\"a\">>, [1, 2, 3]}), "
    "_ = catch gen_server:call({global, kv_store}, {get, <<\"a\">>}), "
    "_ = catch gen_server:call({kv_store, C}, {get, <<\"a\">>}, 2000), "
    "_ = catch gen_server:call({no_such_server, C}, hello, 2000), "
    "_ = catch sys:get_status({global, counter}), "
    "_ = catch gen_server:call({global, stack}, {push, {deep, [#{k => <<1, 2>>}]}}), "
    "_ = catch gen_server:call({global, stack}, pop), "
    "Pid = global:whereis_name(counter), "
    "case is_pid(Pid) of true -> link(Pid), M = monitor(process, Pid), unlink(Pid), "
    "  demonitor(M); false -> ok end, "
    "halt().".

%% ---- Processes ----

start_epmd() ->
    Port = free_port(),
    Exe = filename:join([code:root_dir(), "bin", "epmd"]),
    P = open_port({spawn_executable, Exe},
                  [{args, ["-port", integer_to_list(Port), "-address", "127.0.0.1"]},
                   exit_status, stderr_to_stdout, binary]),
    wait_until(fun() -> case gen_tcp:connect({127, 0, 0, 1}, Port, []) of
                            {ok, S} -> gen_tcp:close(S), true;
                            _ -> false
                        end end, 100),
    {P, Port}.

epmd_port({_, Port}) -> Port.

start_node(SName, Cookie, EpmdPort, Extra, Eval) ->
    Exe = os:find_executable("erl"),
    Args = ["-noshell", "-sname", SName, "-setcookie", Cookie, "-start_epmd", "false",
            "-kernel", "inet_dist_use_interface", "{127,0,0,1}" | Extra] ++ ["-eval", Eval],
    open_port({spawn_executable, Exe},
              [{args, Args}, {env, [{"ERL_EPMD_PORT", integer_to_list(EpmdPort)},
                      {"ERL_CRASH_DUMP_SECONDS", "0"}]},
               exit_status, stderr_to_stdout, binary]).

wait_exit(Port, Timeout) ->
    receive
        {Port, {exit_status, S}} -> S;
        {Port, {data, D}} -> io:format("~s", [D]), wait_exit(Port, Timeout)
    after Timeout ->
        io:format(standard_error, "a node did not finish its workload in time~n", []),
        stop_node(Port)
    end.

stop_node(Port) ->
    case erlang:port_info(Port, os_pid) of
        {os_pid, Pid} -> os:cmd("kill -9 " ++ integer_to_list(Pid));
        undefined -> ok
    end,
    catch port_close(Port),
    ok.

os_kill({Port, _}) -> stop_node(Port).

wait_registered(EpmdPort, Name) ->
    ok = wait_until(fun() -> lists:keymember(Name, 1, epmd_names(EpmdPort)) end, 300).

epmd_names(EpmdPort) ->
    case gen_tcp:connect({127, 0, 0, 1}, EpmdPort, [binary, {active, false}]) of
        {ok, S} ->
            ok = gen_tcp:send(S, <<1:16, 110>>),
            Bytes = read_all(S, <<>>),
            case Bytes of
                <<_:32, Text/binary>> ->
                    [{N, P} || L <- string:split(binary_to_list(Text), "\n", all),
                               {match, [N, P]} <- [re:run(L, "^name (\\S+) at port (\\d+)",
                                                          [{capture, all_but_first, list}])]];
                _ -> []
            end;
        _ -> []
    end.

read_all(S, Acc) ->
    case gen_tcp:recv(S, 0, 5000) of
        {ok, D} -> read_all(S, <<Acc/binary, D/binary>>);
        _ -> gen_tcp:close(S), Acc
    end.

wait_until(_, 0) -> timeout;
wait_until(F, N) ->
    case F() of
        true -> ok;
        false -> timer:sleep(100), wait_until(F, N - 1)
    end.

free_port() ->
    {ok, S} = gen_tcp:listen(0, [{ip, {127, 0, 0, 1}}]),
    {ok, P} = inet:port(S),
    gen_tcp:close(S),
    P.

short_host() ->
    {ok, H} = inet:gethostname(),
    hd(string:split(H, ".")).

%% ---- The epmd proxy: records requests and answers, redirects PORT2_RESP to a relay ----

epmd_accept(Ls, EpmdPort, Main) ->
    {ok, C} = gen_tcp:accept(Ls),
    Pid = spawn(fun() -> receive go -> epmd_conn(C, EpmdPort, Main) end end),
    ok = gen_tcp:controlling_process(C, Pid),
    Pid ! go,
    epmd_accept(Ls, EpmdPort, Main).

epmd_conn(C, EpmdPort, Main) ->
    {ok, E} = gen_tcp:connect({127, 0, 0, 1}, EpmdPort, [binary, {active, true}]),
    ok = inet:setopts(C, [{active, true}]),
    epmd_loop(C, E, Main, <<>>, <<>>).

epmd_loop(C, E, Main, Req, Resp) ->
    receive
        {tcp, C, D} ->
            ok = gen_tcp:send(E, D),
            epmd_loop(C, E, Main, <<Req/binary, D/binary>>, Resp);
        {tcp, E, D} ->
            Out = case {Req, Resp} of
                      {<<_:16, 122, _/binary>>, <<>>} -> redirect(D, Main);
                      _ -> D
                  end,
            ok = gen_tcp:send(C, Out),
            epmd_loop(C, E, Main, Req, <<Resp/binary, D/binary>>);
        {tcp_closed, _} ->
            gen_tcp:close(C),
            gen_tcp:close(E),
            Main ! {epmd, Req, Resp}
    end.

redirect(<<119, 0, RealPort:16, Rest/binary>>, Main) ->
    {ok, Ls} = gen_tcp:listen(0, [binary, {active, false}, {ip, {127, 0, 0, 1}}]),
    {ok, RelayPort} = inet:port(Ls),
    Relay = spawn(fun() -> relay_accept(Ls, RealPort, Main) end),
    ok = gen_tcp:controlling_process(Ls, Relay),
    Relay ! owner,
    <<119, 0, RelayPort:16, Rest/binary>>;
redirect(D, _) ->
    D.

%% ---- The distribution relay: one per looked-up node, records both directions ----

relay_accept(Ls, RealPort, Main) ->
    receive owner -> ok end,
    relay_accept_loop(Ls, RealPort, Main).

relay_accept_loop(Ls, RealPort, Main) ->
    case gen_tcp:accept(Ls, 120000) of
        {ok, C} ->
            Pid = spawn(fun() -> receive go -> relay(C, RealPort, Main) end end),
            ok = gen_tcp:controlling_process(C, Pid),
            Pid ! go,
            relay_accept_loop(Ls, RealPort, Main);
        _ ->
            gen_tcp:close(Ls)
    end.

relay(C, RealPort, Main) ->
    {ok, S} = gen_tcp:connect({127, 0, 0, 1}, RealPort, [binary, {active, true}]),
    ok = inet:setopts(C, [{active, true}]),
    relay_loop(C, S, Main, <<>>, <<>>).

relay_loop(C, S, Main, Up, Down) ->
    receive
        {tcp, C, D} ->
            gen_tcp:send(S, D),
            relay_loop(C, S, Main, <<Up/binary, D/binary>>, Down);
        {tcp, S, D} ->
            gen_tcp:send(C, D),
            relay_loop(C, S, Main, Up, <<Down/binary, D/binary>>);
        {tcp_closed, _} ->
            gen_tcp:close(C),
            gen_tcp:close(S),
            Main ! {dist, Up, Down}
    end.

collect(Acc) ->
    receive
        {epmd, _, _} = M -> collect([M | Acc]);
        {dist, _, _} = M -> collect([M | Acc]);
        {_Port, {data, D}} when is_binary(D) -> io:format("~s", [D]), collect(Acc);
        {_Port, {exit_status, _}} -> collect(Acc)
    after 2000 -> Acc
    end.

%% ---- Seeds ----

write_seeds(Out, Streams) ->
    Seeds = lists:flatmap(fun seeds_of/1, Streams),
    Unique = lists:usort([{Kind, Bin} || {Kind, Bin} <- Seeds, byte_size(Bin) > 0]),
    lists:foreach(
        fun({Kind, Bin}) ->
            Dir = filename:join(Out, Kind),
            ok = filelib:ensure_dir(filename:join(Dir, "x")),
            Name = binary:encode_hex(crypto:hash(sha, Bin)),
            ok = file:write_file(filename:join(Dir, string:lowercase(binary_to_list(Name))), Bin)
        end, Unique),
    Count = fun(K) -> length([x || {K2, _} <- Unique, K2 =:= K]) end,
    io:format("wrote ~p dist, ~p handshake, ~p epmd seeds from ~p streams to ~s~n",
              [Count("dist"), Count("handshake"), Count("epmd"), length(Streams), Out]).

%% Only epmd's answers: they are what the C node parses.
seeds_of({epmd, _Req, Resp}) ->
    [{"epmd", Resp}];
seeds_of({dist, Up, Down}) ->
    %% The initiator sends send_name, challenge_reply (and maybe a status); the acceptor sends
    %% status, challenge and challenge_ack. Then both sides switch to {packet, 4}.
    {HsUp, DistUp} = split_handshake(Up, $r),
    {HsDown, DistDown} = split_handshake(Down, $a),
    [{"handshake", M} || M <- HsUp ++ HsDown] ++
        dist_seeds(DistUp) ++ dist_seeds(DistDown).

split_handshake(Bin, Last) -> split_handshake(Bin, Last, []).

split_handshake(<<Len:16, Body:Len/binary, Rest/binary>>, Last, Acc) ->
    Msg = <<Len:16, Body/binary>>,
    case Body of
        <<Last, _/binary>> -> {lists:reverse([Msg | Acc]), Rest};
        _ -> split_handshake(Rest, Last, [Msg | Acc])
    end;
split_handshake(_, _, Acc) ->
    {lists:reverse(Acc), <<>>}.

dist_seeds(Bin) ->
    Packets = packets(Bin, []),
    Single = [P || P <- Packets, byte_size(P) =< ?MAX_SEED],
    [{"dist", S} || S <- Single ++ prefixes(Packets, <<>>, [])].

packets(<<Len:32, Body:Len/binary, Rest/binary>>, Acc) ->
    packets(Rest, [<<Len:32, Body/binary>> | Acc]);
packets(_, Acc) ->
    lists:reverse(Acc).

%% Consecutive runs of packets up to ?MAX_SEED bytes: the reader sees several packets per read.
prefixes([], Run, Acc) -> add_run(Run, Acc);
prefixes([P | Ps], Run, Acc) when byte_size(P) > ?MAX_SEED ->
    prefixes(Ps, <<>>, add_run(Run, Acc));
prefixes([P | Ps], Run, Acc) when byte_size(Run) + byte_size(P) =< ?MAX_SEED ->
    prefixes(Ps, <<Run/binary, P/binary>>, Acc);
prefixes(Ps, Run, Acc) ->
    prefixes(Ps, <<>>, add_run(Run, Acc)).

add_run(<<>>, Acc) -> Acc;
add_run(Run, Acc) -> [Run | Acc].
