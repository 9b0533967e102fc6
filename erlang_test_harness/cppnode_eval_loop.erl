%% SPDX-License-Identifier: Apache-2.0
%% Control loop for BEAM nodes driven by the C++ test fixtures (tests/support/beam_node.cpp).
%% Each stdin line is "Seq HexCode": the code is an Erlang expression sequence (erlang mode) or
%% Elixir code (elixir mode), hex-encoded so any text survives the line protocol. The answer is
%% one stdout line "@@cppnode-eval Seq Result", Result printed like ~p but never broken over
%% lines. Every line starts with fresh variable bindings (keep values across lines with put/get);
%% the control process and its mailbox stay the same. EOF on stdin halts the node, so a test
%% process that dies never leaves its BEAM nodes behind.
-module(cppnode_eval_loop).
-export([run/1]).

-define(MARK, "@@cppnode-eval ").

run([Mode]) -> run(Mode);
run(Mode) when Mode =:= erlang; Mode =:= elixir ->
    ok = io:setopts(standard_io, [binary, {encoding, unicode}]),
    loop(Mode).

loop(Mode) ->
    case io:get_line(standard_io, "") of
        eof -> erlang:halt(0);
        {error, _} -> erlang:halt(0);
        Line ->
            {Seq, Code} = parse_request(string:trim(Line, trailing, "\r\n")),
            Result = eval(Mode, Code),
            Text = io_lib_pretty:print(Result, [{column, 1}, {line_length, 100000000},
                                                {depth, -1}, {encoding, unicode}]),
            io:put_chars(standard_io, [<<"\n" ?MARK>>, Seq, $\s, unicode:characters_to_binary(Text), $\n]),
            loop(Mode)
    end.

parse_request(Line) ->
    [Seq, Hex] = binary:split(Line, <<" ">>),
    {Seq, binary:decode_hex(Hex)}.

eval(Mode, Code) ->
    try do_eval(Mode, Code)
    catch Class:Reason:Stack -> {eval_error, Class, Reason, Stack}
    end.

do_eval(erlang, Code) ->
    Text = unicode:characters_to_list(Code),
    {ok, Tokens, _} = erl_scan:string(ensure_dot(Text)),
    {ok, Exprs} = erl_parse:parse_exprs(Tokens),
    {value, Value, _} = erl_eval:exprs(Exprs, erl_eval:new_bindings()),
    Value;
do_eval(elixir, Code) ->
    {Value, _} = 'Elixir.Code':eval_string(Code, []),
    Value.

ensure_dot(Text) ->
    case lists:reverse(string:trim(Text, trailing)) of
        [$. | _] -> Text;
        _ -> Text ++ "."
    end.
