%% SPDX-License-Identifier: Apache-2.0
%% Cluster harness for the C++ seed servers (driven by tests/servers/harness_test.cpp).
%%
%% Every seed server runs twice: the C++ one on the C node as {global, Name}, and the real seed
%% module (erlang_test_harness/seeds/) on a BEAM node as {global, ref_Name}, both supervised and
%% restarted with their initial state. compare/2 sends the same operations to both, from the
%% calling node, and reports every answer that differs: replies, the exit a crash gives the
%% caller, and the state sys:get_state/1 shows. Both see the same history, so they must agree
%% exactly, whichever node the operations come from.
-module(cppnode_harness).
-behaviour(supervisor).
-export([start_references/0, start_local_references/0, ops/1, compare/2, probe/3, call/4, rate_check/2,
         wait_registered/2, wait_gone/2, whereis_node/1, call_when_suspended/2]).
-export([init/1]).

-define(WAIT_MS, 10000).

%% The reference seed servers, globally registered as ref_<name>, under a supervisor that is
%% not linked to the caller.
start_references() ->
    Children =
        [child(ref_counter, 'Elixir.Counter', [0, [{name, {global, ref_counter}}]]),
         child(ref_stack, 'Elixir.Stack', [[hello], [{name, {global, ref_stack}}]]),
         child(ref_kv_store, 'Elixir.KVStore', [[{name, {global, ref_kv_store}}]]),
         child(ref_erl_kv_store, kv_store, [{global, ref_erl_kv_store}]),
         child(ref_hashmap, 'Elixir.Hashmap', [#{}, [{name, {global, ref_hashmap}}]]),
         child(ref_shopping_cart, 'Elixir.ShoppingCart', [[{name, {global, ref_shopping_cart}}]])],
    {ok, Sup} = supervisor:start_link(?MODULE, Children),
    unlink(Sup),
    ok.

%% The same seed modules registered locally under the C node's names (counter, stack, ...), for
%% clients that call by registered name, as JInterface and ei do (tests/fault/interop_test.cpp).
start_local_references() ->
    Children =
        [child(counter, 'Elixir.Counter', [0, [{name, counter}]]),
         child(stack, 'Elixir.Stack', [[hello], [{name, stack}]]),
         child(kv_store, 'Elixir.KVStore', [[{name, kv_store}]]),
         child(erl_kv_store, kv_store, [{local, erl_kv_store}]),
         child(hashmap, 'Elixir.Hashmap', [#{}, [{name, hashmap}]]),
         child(shopping_cart, 'Elixir.ShoppingCart', [[{name, shopping_cart}]])],
    {ok, Sup} = supervisor:start_link(?MODULE, Children),
    unlink(Sup),
    ok.

child(Id, Module, Args) ->
    #{id => Id, start => {Module, start_link, Args}}.

%% The references' supervisor: one_for_one, and patient, since the harness crashes servers on
%% purpose many times.
init(Children) ->
    {ok, {#{strategy => one_for_one, intensity => 1000, period => 5}, Children}}.

%% The operations each server gets: its whole protocol, the edge cases, and the requests the
%% seed module crashes on.
ops(counter) ->
    [{call, get_count}, {cast, {increment, 5}}, {cast, {increment, 3}}, {call, get_count},
     {cast, {increment, 9223372036854775807}}, {call, get_count}, {cast, {increment, 1.5}},
     {call, get_count}, state, {call, bogus}, {call, get_count}, {cast, {increment, x}},
     {call, get_count}, {cast, bogus}, {call, get_count}, state];
ops(stack) ->
    [state, {call, pop}, {cast, {push, world}}, {cast, {push, <<"bin">>}}, state, {call, pop},
     {call, pop}, {call, pop}, {call, pop}, {cast, {push, [1, 2.5, #{k => v}]}}, {call, pop},
     {call, other}, state, {cast, other}, state];
ops(kv_store) ->
    [{call, keys}, {call, {put, name, <<"Elixir">>}}, {call, {put, 1, a}}, {call, {put, 1.0, b}},
     {call, {put, {t, [1]}, #{x => 1}}}, {call, {put, <<"k">>, "chars"}}, {call, {get, name}},
     {call, {get, 1.0}}, {call, {get, missing}}, {call, keys}, {cast, {delete, 1}},
     {cast, {delete, absent}}, {call, keys}, state, {call, all}, {call, keys},
     {cast, other}, state];
ops(erl_kv_store) ->
    [{call, all}, {call, {put, name, "Alice"}}, {call, {put, age, 30}}, {call, {get, name}},
     {call, {get, nope}}, {call, all}, {cast, {delete, age}}, {cast, whatever}, {call, all},
     {call, whatever}, {call, {put, 2, two}}, {call, {put, 2.0, float_two}}, {call, all},
     state];
ops(hashmap) ->
    [{call, {get_all}}, {call, {put, <<"name">>, <<"John">>}}, {call, {get, <<"name">>}},
     {call, {update, <<"name">>, <<"Doe">>}}, {call, {get, <<"age">>, 30}},
     {call, {get, <<"age">>}}, {call, {put, <<"gender">>, <<"Male">>}},
     {cast, {delete, <<"gender">>}}, {call, {get_all}}, state, {call, get_all},
     {call, {get_all}}, {cast, {put, a, b}}, state];
ops(shopping_cart) ->
    [{call, list_items}, {call, total}, {call, {add_item, apple, 3}}, {call, {add_item, 1, 2}},
     {call, {add_item, apple, 4}}, {call, total}, {call, {remove_item, apple}},
     {call, {remove_item, 1.0}}, {call, {remove_item, absent}}, {call, list_items},
     {call, {add_item, pear, 0.5}}, {call, total},
     {call, {add_item, big, 18446744073709551616}}, {call, total}, state, {cast, clear},
     {call, list_items}, {call, {add_item, x, free}}, {call, total}, {call, list_items},
     {call, unknown}, {cast, unknown}, state].

%% Runs ops(Name) against {global, Name} and {global, ref_Name} with the given client library
%% (erlang: gen_server; elixir: 'Elixir.GenServer'). {ok, NumberOfOps} when every answer
%% agrees, else {mismatch, [{Op, CppAnswer, SeedAnswer}]}.
compare(Name, Client) ->
    Ref = list_to_atom("ref_" ++ atom_to_list(Name)),
    Ops = ops(Name),
    Results = [{Op, probe(Client, Name, Op), probe(Client, Ref, Op)} || Op <- Ops],
    case [R || {_, Cpp, Seed} = R <- Results, Cpp =/= Seed] of
        [] -> {ok, length(Ops)};
        Mismatches -> {mismatch, Mismatches}
    end.

%% One operation against {global, Name}: {reply, R}, {exit, Why}, cast_ok, {cast_exit, Why}
%% or {state, S}. After a crash it waits until the supervisor has brought the server back.
probe(Client, Name, {call, Request}) ->
    Before = wait_registered(Name, ?WAIT_MS),
    try call(Client, Name, Request, 5000) of
        Reply -> {reply, Reply}
    catch
        exit:{Reason, _} ->
            wait_replaced(Name, Before),
            {exit, normalize(Reason)}
    end;
probe(Client, Name, {cast, Message}) ->
    Pid = wait_registered(Name, ?WAIT_MS),
    %% A cast's crash is not reported to the caster: watch the server to see it. The state
    %% call is handled after the cast, so it fails if and only if the cast crashed the server.
    Mref = erlang:monitor(process, Pid),
    ok = cast(Client, Name, Message),
    Result = try sys:get_state(Pid) of
                 _ -> cast_ok
             catch
                 exit:_ ->
                     receive
                         {'DOWN', Mref, process, Pid, Reason} ->
                             wait_replaced(Name, Pid),
                             {cast_exit, normalize(Reason)}
                     after ?WAIT_MS -> no_down
                     end
             end,
    erlang:demonitor(Mref, [flush]),
    Result;
probe(_Client, Name, state) ->
    wait_registered(Name, ?WAIT_MS),
    {state, sys:get_state({global, Name})}.

call(erlang, Name, Request, Timeout) -> gen_server:call({global, Name}, Request, Timeout);
call(elixir, Name, Request, Timeout) -> 'Elixir.GenServer':call({global, Name}, Request, Timeout).

cast(erlang, Name, Message) -> gen_server:cast({global, Name}, Message);
cast(elixir, Name, Message) -> 'Elixir.GenServer':cast({global, Name}, Message).

%% The parts of a crash reason that do not depend on the runtime: what failed and on what.
normalize({function_clause, [{M, F, Args, _} | _]}) when is_list(Args) ->
    {function_clause, M, F, hd(Args)};
normalize({badarith, [{erlang, '+', Args, _}, {M, _, _, _} | _]}) ->
    {badarith, Args, M};
normalize({undef, [{M, F, Args, _} | _]}) when is_list(Args) ->
    {undef, M, F, hd(Args)};
normalize(Reason) ->
    Reason.

%% Calls `allow` until the limiter says no (at most 50 times), then until it says yes again:
%% {limited_after, Oks, refilled}, or what went wrong.
rate_check(Client, Name) ->
    rate_until_limited(Client, Name, 0).

rate_until_limited(_Client, _Name, 50) ->
    never_limited;
rate_until_limited(Client, Name, Oks) ->
    case call(Client, Name, allow, 5000) of
        ok -> rate_until_limited(Client, Name, Oks + 1);
        {error, rate_limited} -> rate_until_refilled(Client, Name, Oks, ?WAIT_MS);
        Other -> {unexpected, Other}
    end.

rate_until_refilled(Client, Name, Oks, Ms) ->
    case call(Client, Name, allow, 5000) of
        ok -> {limited_after, Oks, refilled};
        {error, rate_limited} when Ms > 0 ->
            timer:sleep(20),
            rate_until_refilled(Client, Name, Oks, Ms - 20);
        Other -> {not_refilled, Other}
    end.

%% Waits until Name is globally registered; returns its pid (or undefined after Ms).
wait_registered(Name, Ms) ->
    case global:whereis_name(Name) of
        Pid when is_pid(Pid) -> Pid;
        undefined when Ms > 0 ->
            timer:sleep(10),
            wait_registered(Name, Ms - 10);
        undefined -> undefined
    end.

%% Waits until Name names a live pid other than Old (the supervisor restarted it).
wait_replaced(Name, Old) ->
    wait_replaced(Name, Old, ?WAIT_MS).
wait_replaced(Name, Old, Ms) ->
    case global:whereis_name(Name) of
        Pid when is_pid(Pid), Pid =/= Old -> Pid;
        _ when Ms > 0 ->
            timer:sleep(10),
            wait_replaced(Name, Old, Ms - 10);
        Other -> {not_replaced, Other}
    end.

%% Waits until none of Names is registered any more: [] or the names still there.
wait_gone(Names, Ms) ->
    case [N || N <- Names, global:whereis_name(N) =/= undefined] of
        [] -> [];
        Left when Ms > 0 ->
            timer:sleep(10),
            wait_gone(Left, Ms - 10);
        Left -> Left
    end.

%% The node a global name lives on, or undefined.
whereis_node(Name) ->
    case global:whereis_name(Name) of
        Pid when is_pid(Pid) -> node(Pid);
        undefined -> undefined
    end.

%% Suspends {global, Name} (sys:suspend/1), starts a process that calls it with an infinite
%% timeout and returns that process once it waits for the reply; its result is sent to the
%% caller as {call_result, Result}.
call_when_suspended(Name, Request) ->
    ok = sys:suspend({global, Name}),
    Self = self(),
    Caller = spawn(fun() ->
                           Result = try gen_server:call({global, Name}, Request, infinity)
                                    catch exit:Reason -> {exit, Reason}
                                    end,
                           Self ! {call_result, Result}
                   end),
    wait_in_call(Caller, ?WAIT_MS).

wait_in_call(Pid, Ms) ->
    case erlang:process_info(Pid, [current_function, status]) of
        [{current_function, {gen, do_call, 4}}, {status, waiting}] -> Pid;
        _ when Ms > 0 ->
            timer:sleep(5),
            wait_in_call(Pid, Ms - 5);
        Other -> {not_waiting, Other}
    end.
