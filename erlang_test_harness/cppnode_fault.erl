%% SPDX-License-Identifier: Apache-2.0
%% Load and fault helpers for the BEAM nodes of the fault-injection and soak suite
%% (tests/fault/). Everything here runs on a BEAM node against servers on the C node; results
%% come back as plain terms the C++ test compares.
-module(cppnode_fault).
-export([call_load/4, cast_load/3, start_callers/2, calls_made/1, stop_callers/1,
         connect_cycles/4, start_blocked_calls/4, collect/2, wait_in_call/2, wait_until/2,
         process_count/1, global_call/3, start_reference_server/1, link_many/2,
         monitor_many/2, calls/2, collect_exits/2, start_kv_store/0, nested/1, depth/1,
         send_nested/3, send_new_atoms/4, stat/2]).

-define(CALL_TIMEOUT, 30000).

%% Procs processes make Calls calls in all to the hashmap server Dest, each carrying a value
%% unique across the run (Base .. Base + Calls - 1): {get, Absent, Value} answers Value.
%% Even-numbered processes call through gen_server:call (an alias tag, OTP 24+); odd ones send
%% the pre-OTP-24 form by hand ({'$gen_call', {self(), Mref}, Req}), so the reply goes to the
%% pid and a duplicate would stay in the mailbox. Returns
%% #{ok => N, wrong => N, lost => N, stray => N, first_error => Term}.
call_load(Dest, Procs, Calls, Base) ->
    Parent = self(),
    Each = Calls div Procs,
    Extra = Calls rem Procs,
    Workers = [spawn_link(fun() ->
                                  First = Base + P * Each + min(P, Extra),
                                  N = Each + if P < Extra -> 1; true -> 0 end,
                                  Parent ! {self(), call_worker(Dest, P rem 2, First, N)}
                          end)
               || P <- lists:seq(0, Procs - 1)],
    lists:foldl(fun(W, Acc) -> receive {W, R} -> merge(R, Acc) end end,
                #{ok => 0, wrong => 0, lost => 0, stray => 0, first_error => none}, Workers).

call_worker(Dest, Style, First, Calls) ->
    Counts = call_worker(Dest, Style, First, First + Calls, #{ok => 0, wrong => 0, lost => 0,
                                                              stray => 0, first_error => none}),
    %% One more call: a duplicate of any earlier reply went out before this one's reply.
    _ = one_call(Style, Dest, {get, '$cppnode_fault_absent', sync}),
    {message_queue_len, Stray} = process_info(self(), message_queue_len),
    Counts#{stray := Stray}.

call_worker(_Dest, _Style, End, End, Acc) ->
    Acc;
call_worker(Dest, Style, V, End, Acc) ->
    Acc1 = case one_call(Style, Dest, {get, '$cppnode_fault_absent', V}) of
               {ok, V} -> bump(ok, Acc);
               {ok, Other} -> note(wrong, {expected, V, got, Other}, Acc);
               {error, Why} -> note(lost, Why, Acc)
           end,
    call_worker(Dest, Style, V + 1, End, Acc1).

one_call(0, Dest, Request) ->
    try {ok, gen_server:call(Dest, Request, ?CALL_TIMEOUT)}
    catch exit:Why -> {error, Why}
    end;
one_call(1, Dest, Request) ->
    Mref = erlang:monitor(process, Dest),
    Dest ! {'$gen_call', {self(), Mref}, Request},
    receive
        {Mref, Reply} ->
            erlang:demonitor(Mref, [flush]),
            {ok, Reply};
        {'DOWN', Mref, _, _, Why} ->
            {error, Why}
    after ?CALL_TIMEOUT ->
            erlang:demonitor(Mref, [flush]),
            {error, timeout}
    end.

bump(Key, Acc) -> maps:update_with(Key, fun(N) -> N + 1 end, Acc).

note(Key, Why, #{first_error := none} = Acc) -> bump(Key, Acc#{first_error := Why});
note(Key, _Why, Acc) -> bump(Key, Acc).

merge(R, Acc) ->
    maps:map(fun(first_error, none) -> maps:get(first_error, R);
                (first_error, E) -> E;
                (K, N) -> N + maps:get(K, R)
             end, Acc).

%% Sends Casts casts {increment, Amount} (Amount = 1..7, varying) to the counter server Dest
%% from Procs processes, then has each process call get_count once so that its casts are known
%% to be handled (signals between one pair of processes stay in order). Returns the sum of the
%% amounts sent.
cast_load(Dest, Procs, Casts) ->
    Parent = self(),
    Workers = [spawn_link(fun() ->
                                  N = Casts div Procs + if P < Casts rem Procs -> 1; true -> 0 end,
                                  Sum = cast_worker(Dest, P, N, 0),
                                  _ = gen_server:call(Dest, get_count, 120000),
                                  Parent ! {self(), Sum}
                          end)
               || P <- lists:seq(0, Procs - 1)],
    lists:sum([receive {W, S} -> S end || W <- Workers]).

cast_worker(_Dest, _P, 0, Sum) ->
    Sum;
cast_worker(Dest, P, N, Sum) ->
    Amount = (N + P) rem 7 + 1,
    gen_server:cast(Dest, {increment, Amount}),
    cast_worker(Dest, P, N - 1, Sum + Amount).

%% Starts Procs processes that call Dest ({put, Key, Value} on a kv_store) in a loop until
%% stop_callers/1. Returns a handle for calls_made/1 and stop_callers/1.
start_callers(Dest, Procs) ->
    Counts = counters:new(2, [write_concurrency]),
    Owner = spawn(fun() ->
                          Me = self(),
                          Ws = [spawn_link(fun() -> caller_loop(Me, Dest, P, Counts, 0) end)
                                || P <- lists:seq(1, Procs)],
                          receive {stop, From} ->
                                  [W ! {stop, Me} || W <- Ws],
                                  [receive {W, stopped} -> ok end || W <- Ws],
                                  From ! {callers_stopped, Me}
                          end
                  end),
    {Owner, Counts}.

caller_loop(Owner, Dest, P, Counts, I) ->
    receive
        {stop, Owner} -> Owner ! {self(), stopped}
    after 0 ->
            case catch gen_server:call(Dest, {put, {caller, P}, I}, 10000) of
                ok -> counters:add(Counts, 1, 1);
                _ -> counters:add(Counts, 2, 1)
            end,
            caller_loop(Owner, Dest, P, Counts, I + 1)
    end.

%% Calls that succeeded so far.
calls_made({_Owner, Counts}) -> counters:get(Counts, 1).

%% Stops the callers: {Succeeded, Failed}.
stop_callers({Owner, Counts}) ->
    Owner ! {stop, self()},
    receive {callers_stopped, Owner} -> {counters:get(Counts, 1), counters:get(Counts, 2)}
    after 30000 -> stop_timeout
    end.

%% Cycles From..To: connect to Node, call {Server, Node} twice, disconnect. {ok, Cycles} or
%% {failed, Cycle, Why}.
connect_cycles(Node, Server, From, To) ->
    connect_cycles(Node, Server, From, To, 0).

connect_cycles(_Node, _Server, I, To, N) when I > To ->
    {ok, N};
connect_cycles(Node, Server, I, To, N) ->
    case catch connect_cycle(Node, Server, I) of
        ok -> connect_cycles(Node, Server, I + 1, To, N + 1);
        Other -> {failed, I, Other}
    end.

connect_cycle(Node, Server, I) ->
    true = net_kernel:connect_node(Node),
    ok = gen_server:call({Server, Node}, {put, cycle, I}, 10000),
    I = gen_server:call({Server, Node}, {get, cycle}, 10000),
    true = erlang:disconnect_node(Node),
    false = lists:member(Node, nodes(connected)),
    ok.

%% Starts N processes that each call Dest with Request and Timeout once and send
%% {blocked_call, Pid, Result, Ms} to the caller (Result: {reply, R} or {exit, Reason}; Ms: how
%% long the call took). Returns their pids once every one waits for its reply.
start_blocked_calls(Dest, Request, N, Timeout) ->
    Self = self(),
    Pids = [spawn(fun() ->
                          T0 = erlang:monotonic_time(millisecond),
                          Result = try {reply, gen_server:call(Dest, Request, Timeout)}
                                   catch exit:Reason -> {exit, Reason}
                                   end,
                          Ms = erlang:monotonic_time(millisecond) - T0,
                          Self ! {blocked_call, self(), Result, Ms}
                  end)
            || _ <- lists:seq(1, N)],
    case [P || P <- Pids, wait_in_call(P, 10000) =/= P] of
        [] -> Pids;
        NotWaiting -> {not_waiting, NotWaiting}
    end.

%% gen_server:call({global, Name}, Request, Timeout): the reply, or, when the call exits, the
%% exit reason with what this node saw then (the name's pid, its node, the connected nodes), so
%% that a failed test says why.
global_call(Name, Request, Timeout) ->
    try gen_server:call({global, Name}, Request, Timeout)
    catch exit:Reason ->
        Where = global:whereis_name(Name),
        {call_exited, Reason, {whereis, Where}, {nodes, nodes()},
         {ping, case Where of P when is_pid(P) -> net_adm:ping(node(P)); _ -> none end}}
    end.

%% The results of the calls started by start_blocked_calls/4: [{Result, Ms}].
collect(Pids, Ms) ->
    [receive {blocked_call, P, Result, Took} -> {Result, Took} after Ms -> {no_result, P} end
     || P <- Pids].

%% Returns Pid once it waits for a reply inside gen:do_call/4.
wait_in_call(Pid, Ms) ->
    case erlang:process_info(Pid, [current_function, status]) of
        [{current_function, {gen, do_call, 4}}, {status, waiting}] -> Pid;
        _ when Ms > 0 ->
            timer:sleep(5),
            wait_in_call(Pid, Ms - 5);
        Other -> {not_waiting, Other}
    end.

%% Calls Fun every 20 ms until it returns true (true) or Ms pass (its last answer).
wait_until(Fun, Ms) ->
    case Fun() of
        true -> true;
        _ when Ms > 0 ->
            timer:sleep(20),
            wait_until(Fun, Ms - 20);
        Other -> Other
    end.

%% The C node's process count, from its stats server ({cppnode, Node}, call stats).
process_count(Node) ->
    case catch gen_server:call({cppnode, Node}, stats, 10000) of
        #{processes := N} -> N;
        Other -> {no_process_count, Other}
    end.

%% A stand-in on a BEAM node for the C node's kv_store, registered as Name: answers a call
%% {put, Key, Value} with ok and lives until it is killed. The reference the C node's link
%% and monitor costs are compared with.
start_reference_server(Name) ->
    Pid = spawn(fun reference_loop/0),
    true = register(Name, Pid),
    ok.

reference_loop() ->
    receive
        {'$gen_call', From, {put, _Key, _Value}} -> gen_server:reply(From, ok)
    end,
    reference_loop().

%% N new processes of this node each link to Target, trap exits and report Target's exit signal
%% to the caller as {link_exit, Reason}. Returns once every link is made; the LINK signals left
%% before the answer, so a later call to Target over the same connection comes after all of them.
link_many(Target, N) ->
    Owner = self(),
    [spawn(fun() ->
                   process_flag(trap_exit, true),
                   link(Target),
                   Owner ! linked,
                   receive {'EXIT', Target, Why} -> Owner ! {link_exit, Why} end
           end) || _ <- lists:seq(1, N)],
    count_messages(linked, N).

count_messages(_Tag, 0) -> ok;
count_messages(Tag, N) -> receive Tag -> count_messages(Tag, N - 1) end.

%% The calling process monitors Target N times; Target's exit brings N 'DOWN' messages.
monitor_many(Target, N) ->
    [erlang:monitor(process, Target) || _ <- lists:seq(1, N)],
    ok.

%% N calls {put, Key, I} to the kv_store Dest through gen_server:call; the number answered ok.
calls(Dest, N) ->
    length([I || I <- lists:seq(1, N),
                 gen_server:call(Dest, {put, '$cppnode_fault_key', I}, ?CALL_TIMEOUT) =:= ok]).

%% Counts the exit reports that reach the caller within Ms: {link_exit, Why} from link_many and
%% 'DOWN' from monitor_many, as #{Why => Count}.
collect_exits(N, Ms) ->
    Deadline = erlang:monotonic_time(millisecond) + Ms,
    collect_exits(N, Deadline, #{}).

collect_exits(0, _Deadline, Acc) -> Acc;
collect_exits(N, Deadline, Acc) ->
    Left = max(0, Deadline - erlang:monotonic_time(millisecond)),
    receive
        {link_exit, Why} -> collect_exits(N - 1, Deadline, count(Why, Acc));
        {'DOWN', _, process, _, Why} -> collect_exits(N - 1, Deadline, count(Why, Acc))
    after Left -> Acc#{missing => N}
    end.

count(Key, Acc) -> maps:update_with(Key, fun(N) -> N + 1 end, 1, Acc).

%% Starts the Erlang seed kv_store on this node, registered locally as kv_store (the BEAM
%% reference for the C node's erl_kv_store), unlinked from the caller.
start_kv_store() ->
    {ok, Pid} = kv_store:start_link({local, kv_store}),
    unlink(Pid),
    ok.

%% A term nested Depth tuples deep: {{{...{leaf}...}}}.
nested(Depth) -> lists:foldl(fun(_, T) -> {T} end, leaf, lists:seq(1, Depth)).

%% How deep nested/1's term is (a loop: the BEAM's own printer would recurse on it).
depth({T}) -> 1 + depth(T);
depth(leaf) -> 0.

%% Sends {'$gen_call', {self(), Ref}, {put, Key, nested(Depth)}} to Dest without waiting for the
%% reply (a refused message never gets one); a following call on the same connection is handled
%% after it.
send_nested(Dest, Key, Depth) ->
    Dest ! {'$gen_call', {self(), make_ref()}, {put, Key, nested(Depth)}},
    ok.

%% Casts {delete, Atom} to Dest for Count atoms never seen before (Prefix ++ "_" ++ N), in order.
send_new_atoms(Dest, Prefix, First, Count) ->
    [gen_server:cast(Dest, {delete, list_to_atom(Prefix ++ "_" ++ integer_to_list(N))})
     || N <- lists:seq(First, First + Count - 1)],
    ok.

%% One figure of the C node's stats server ({cppnode, Node}, call stats).
stat(Node, Key) ->
    case catch gen_server:call({cppnode, Node}, stats, 10000) of
        #{Key := N} -> N;
        Other -> {no_stat, Key, Other}
    end.
