%% SPDX-License-Identifier: Apache-2.0
%%
%% Writes the golden ETF corpus (etf_corpus.txt) from a real node:
%%   erlc -o /tmp tests/data/make_corpus.erl &&
%%   erl -noshell -pa /tmp -run make_corpus main tests/data/etf_corpus.txt
%%
%% One record per line, fields separated by tabs:
%%   T Name Hex PrintFlag Printed   term_to_binary(T) and io_lib:print(T) (~p, no line breaks);
%%                                  PrintFlag is p when the printing does not depend on this node
%%                                  (no pids, ports or references inside), else n.
%%   C Name InHex OutHex Printed    crafted input binary_to_term accepts, and term_to_binary of
%%                                  what it gives.
%%   Z Name Hex PlainHex            term_to_binary(T, [compressed]) and term_to_binary(T).
%%   B Name Hex                     input binary_to_term rejects.
%%   S Name Hex                     term_to_binary(lists:sort(L)) for a list L of mixed terms.
-module(make_corpus).
-export([main/1]).

main([Out]) ->
    rand:seed(exsss, {1, 2, 3}),
    {ok, F} = file:open(Out, [write, binary]),
    Otp = erlang:system_info(otp_release),
    Erts = erlang:system_info(version),
    io:format(F, "# ETF corpus made by tests/data/make_corpus.erl on OTP ~s (erts ~s)~n",
              [Otp, Erts]),
    [term(F, N, T) || {N, T} <- terms()],
    [crafted(F, N, B) || {N, B} <- crafted()],
    [compressed(F, N, T) || {N, T} <- compressed_terms()],
    [bad(F, N, B) || {N, B} <- bad()],
    [sorted(F, N, L) || {N, L} <- sort_lists()],
    ok = file:close(F),
    halt(0).

hex(B) -> binary:encode_hex(B).

print(T) -> unicode:characters_to_binary(io_lib:print(T, 1, 100000000, -1)).

node_dependent(T) when is_pid(T); is_port(T); is_reference(T) -> true;
node_dependent(T) when is_tuple(T) -> node_dependent(tuple_to_list(T));
node_dependent(T) when is_map(T) -> node_dependent(maps:to_list(T));
node_dependent([H | T]) -> node_dependent(H) orelse node_dependent(T);
node_dependent(_) -> false.

term(F, Name, T) ->
    Flag = case node_dependent(T) of true -> "n"; false -> "p" end,
    io:format(F, "T\t~s\t~s\t~s\t~s~n", [Name, hex(term_to_binary(T)), Flag, print(T)]).

crafted(F, Name, In) ->
    T = binary_to_term(In),
    io:format(F, "C\t~s\t~s\t~s\t~s~n", [Name, hex(In), hex(term_to_binary(T)), print(T)]).

compressed(F, Name, T) ->
    io:format(F, "Z\t~s\t~s\t~s~n",
              [Name, hex(term_to_binary(T, [compressed])), hex(term_to_binary(T))]).

bad(F, Name, In) ->
    try binary_to_term(In) of
        T -> error({accepted, Name, T})
    catch
        error:badarg -> io:format(F, "B\t~s\t~s~n", [Name, hex(In)])
    end.

sorted(F, Name, L) ->
    io:format(F, "S\t~s\t~s~n", [Name, hex(term_to_binary(lists:sort(shuffle(L))))]).

shuffle(L) -> [X || {_, X} <- lists:sort([{rand:uniform(), X} || X <- L])].

%% ---- Terms made by term_to_binary ----

terms() ->
    integers() ++ floats() ++ atoms() ++ binaries() ++ strings() ++ lists() ++ tuples() ++
        maps() ++ identifiers() ++ funs() ++ mixed() ++ bench_messages().

integers() ->
    Fixed = [0, 1, -1, 2, 127, 128, 255, 256, -255, -256, 1000, -1000,
             1 bsl 27 - 1, 1 bsl 27, -(1 bsl 27), -(1 bsl 27) - 1,
             1 bsl 31 - 1, 1 bsl 31, -(1 bsl 31), -(1 bsl 31) - 1,
             1 bsl 32, 1 bsl 32 - 1, -(1 bsl 32),
             1 bsl 59 - 1, 1 bsl 59, -(1 bsl 59), 1 bsl 60,
             1 bsl 63 - 1, 1 bsl 63, -(1 bsl 63), -(1 bsl 63) - 1,
             1 bsl 64 - 1, 1 bsl 64, -(1 bsl 64), 1 bsl 64 + 1,
             1 bsl 100, -(1 bsl 100) + 7,
             1 bsl 1000, -(1 bsl 1000),
             1 bsl 2039, 1 bsl 2040 - 1, 1 bsl 2040, -(1 bsl 2040), 1 bsl 4000 + 12345],
    Random = [begin
                  Bits = rand:uniform(300),
                  V = rand:uniform(1 bsl Bits),
                  case rand:uniform(2) of 1 -> V; 2 -> -V end
              end || _ <- lists:seq(1, 40)],
    named("int", Fixed ++ Random).

floats() ->
    <<Denorm:64/float>> = <<0, 0, 0, 0, 0, 0, 0, 1>>,
    <<MaxDenorm:64/float>> = <<0, 15, 255, 255, 255, 255, 255, 255>>,
    <<MinNorm:64/float>> = <<0, 16, 0, 0, 0, 0, 0, 0>>,
    <<MaxF:64/float>> = <<127, 239, 255, 255, 255, 255, 255, 255>>,
    Fixed = [0.0, -0.0, 1.0, -1.0, 0.1, 0.2, 0.3, 1.5, 2.5, 100.0, 1000.0, 1.0e4, 123456.0,
             1.0e15, 1.0e16, 1.0e21, 1.0e22, 1.0e23, 0.001, 0.0001, 1.0e-5, 1.23e-4,
             3.141592653589793, 2.718281828459045, 1.0e308, -1.0e308, MaxF, Denorm, -Denorm,
             MaxDenorm, MinNorm, 5.0e-324, 9007199254740992.0, 9007199254740993.0e3,
             123456789.125, 0.5, 1.0e100, 1.0e-100, 4.35, 0.1 + 0.2, 1/3, 2/3, 1.0e-7,
             12345.678, 1.7976931348623157e308],
    Random = [begin
                  <<X:64/float>> = <<(rand:uniform(16#7FE)):12, (rand:uniform(1 bsl 52) - 1):52>>,
                  X
              end || _ <- lists:seq(1, 60)],
    Decimal = [rand:uniform(100000) / 100 || _ <- lists:seq(1, 20)],
    named("float", Fixed ++ Random ++ Decimal).

atoms() ->
    named("atom",
          ['', a, ok, true, false, undefined, nil, hello, 'hello world', 'Abc', 'ABC', '_x',
           'a-b', 'a@b', 'a.b', a_b, a1, 'a b', 'after', 'and', 'begin', 'case', 'catch',
           'end', 'fun', 'if', 'of', 'receive', 'try', 'when', 'maybe', 'else', 'div', 'rem',
           'xor', 'not', 'orelse', 'andalso', 'cond', 'let', 'bnot', 'quote\'s', 'back\\slash',
           'new\nline', 'tab\t', '$dollar', '[', '{}', '\'', '"', '1abc', aBC, 'é', 'ß', 'ßtraße',
           'Ärger', 'ÿ', 'naïve', '×', 'a÷b', 'æøå', 'ØRE',
           list_to_atom([955]), list_to_atom([955, 97]), list_to_atom("a" ++ [955]),
           list_to_atom([8364]), list_to_atom([16#1F600]), list_to_atom([0]), list_to_atom([127]),
           list_to_atom([160]), list_to_atom([1, 2, 3]), list_to_atom([159]),
           list_to_atom(lists:duplicate(255, $a)), list_to_atom(lists:duplicate(255, $é)),
           list_to_atom(lists:duplicate(255, 955)), list_to_atom(lists:duplicate(255, 16#1F600)),
           list_to_atom(lists:duplicate(128, 955)), list_to_atom(lists:duplicate(127, 955)),
           list_to_atom(lists:duplicate(85, 8364)), list_to_atom(lists:duplicate(86, 8364)),
           list_to_atom("Elixir.MyApp.Worker"), 'nonode@nohost', 'cpp@localhost']).

binaries() ->
    Random64K = rand:bytes(65536),
    named("binary",
          [<<>>, <<0>>, <<"a">>, <<"abc">>, <<"hello world">>, <<1, 2, 3>>, <<255>>,
           <<"with \"quotes\" and \\ backslash">>, <<"line\nbreak\ttab\r\v\b\f\e">>,
           <<"del", 127>>, <<"nul", 0>>, <<"latin1 ", 233, 252>>, <<"caf", 195, 169>>,
           <<160, 255>>, <<159>>, <<"k">>, <<"key:12345">>, binary:copy(<<"x">>, 1000),
           Random64K, binary:copy(<<"printable ">>, 6554), rand:bytes(300),
           <<1:1>>, <<0:1>>, <<1:7>>, <<5:3>>, <<1, 2:3>>, <<255, 255, 127:7>>,
           <<"abc", 1:1>>, <<0:15>>, <<16#ABCD:13>>, <<(rand:bytes(100))/binary, 3:2>>]).

strings() ->
    named("string",
          ["", "a", "abc", "hello world", [1, 2, 3], [0], [255], [127], [159], [160],
           "with \"quotes\"", "back\\slash", "tab\tnew\nline\r\v\b\f\e", "héllo wörld",
           [$a, 128], [10, 13], lists:seq(0, 255), lists:seq(32, 126),
           lists:duplicate(65535, $x), lists:duplicate(65536, $y), lists:duplicate(65535, 1),
           lists:duplicate(70000, 7), [256], [955, 955], [$a, 256], [-1], [$a, -1],
           [1000000], "\"", "'"]).

lists() ->
    Deep = lists:foldl(fun(_, Acc) -> [Acc] end, [], lists:seq(1, 200)),
    DeepT = lists:foldl(fun(I, Acc) -> [I, Acc] end, [], lists:seq(1, 100)),
    named("list",
          [[a], [a, b], [1, a, 2.0, <<"b">>], [[]], [[], []], [a | b], [1, 2 | 3],
           [a | <<"tail">>], [[1] | 2], [a, b | {c}], [1 | 2.5], ["abc", "def"], [[97]],
           [{a, 1}, {b, 2}], Deep, DeepT, [#{a => 1}], lists:seq(1, 300),
           [1 bsl 70, -(1 bsl 70)], [-1, 0, 1], [a | []], [[a | b] | c],
           lists:seq(1, 1000) ++ [x]]).

tuples() ->
    DeepTuple = lists:foldl(fun(I, Acc) -> {I, Acc} end, {}, lists:seq(1, 200)),
    named("tuple",
          [{}, {a}, {a, b}, {1, 2, 3}, {ok, <<"value">>}, {error, {badarg, [1, 2]}},
           list_to_tuple(lists:seq(1, 255)), list_to_tuple(lists:seq(1, 256)),
           list_to_tuple(lists:seq(1, 300)), list_to_tuple([a || _ <- lists:seq(1, 1000)]),
           {{}}, {[]}, {#{}}, DeepTuple, {put, <<"k">>, 1}, {get, <<"k">>}]).

maps() ->
    M32 = maps:from_list([{I, I * 2} || I <- lists:seq(1, 32)]),
    M33 = maps:from_list([{I, I * 2} || I <- lists:seq(1, 33)]),
    MA33 = maps:from_list([{list_to_atom("k" ++ integer_to_list(I)), I} || I <- lists:seq(1, 33)]),
    MB100 = maps:from_list([{integer_to_binary(I), I} || I <- lists:seq(1, 100)]),
    MBig = maps:from_list([{I, {I}} || I <- lists:seq(1, 1000)]),
    MMixed = maps:from_list([{I, a} || I <- [1, 2.0, a, "s", <<"b">>, {t}, [l], #{}, -5, 1.0]]),
    MMixed40 = maps:from_list([{K, K} || K <- lists:seq(1, 20) ++
                                            [float(X) || X <- lists:seq(1, 20)]]),
    named("map",
          [#{}, #{a => 1}, #{a => 1, b => 2}, #{b => 1, a => 2}, #{1.0 => a, 2 => b, 1 => c},
           #{<<"k">> => <<"v">>}, #{{a, b} => [1, 2], [x] => #{y => z}}, M32, M33, MA33,
           MB100, MBig, MMixed, MMixed40, #{0.0 => zero}, #{-0.0 => negzero},
           #{a => #{b => #{c => #{}}}}, #{"str" => 1, str => 2, <<"str">> => 3},
           #{1 bsl 70 => big, -(1 bsl 70) => negbig, 1.0e30 => fl},
           maps:from_list([{I, I} || I <- lists:seq(-16, 15)]),
           maps:from_list([{I, I} || I <- lists:seq(-16, 16)])]).

%% Pids, ports and references of another node, made from crafted bytes in the new formats.
pid(Node, Id, Serial, Creation) ->
    N = atom_to_binary(Node, utf8),
    binary_to_term(<<131, 88, 119, (byte_size(N)), N/binary, Id:32, Serial:32, Creation:32>>).
port(Node, Id, Creation) ->
    N = atom_to_binary(Node, utf8),
    binary_to_term(<<131, 120, 119, (byte_size(N)), N/binary, Id:64, Creation:32>>).
ref(Node, Creation, Ids) ->
    N = atom_to_binary(Node, utf8),
    binary_to_term(<<131, 90, (length(Ids)):16, 119, (byte_size(N)), N/binary, Creation:32,
                     << <<I:32>> || I <- Ids >>/binary>>).

identifiers() ->
    named("ident",
          [self(), make_ref(), hd(erlang:ports()),
           pid('other@host', 1, 0, 1), pid('other@host', 123, 4, 16#12345678),
           pid('other@host', 16#FFFFFFFF, 16#FFFFFFFF, 16#FFFFFFFF), pid('é@host', 5, 6, 7),
           pid('x@y', 0, 0, 0),
           port('other@host', 7, 3), port('other@host', 1 bsl 28 - 1, 3),
           port('other@host', 1 bsl 28, 3), port('other@host', 1 bsl 40, 3),
           port('other@host', 1 bsl 64 - 1, 16#FFFFFFFF),
           ref('other@host', 3, [1, 2, 3]), ref('other@host', 16#FFFFFFFF, [16#3FFFF, 0, 0]),
           ref('other@host', 1, [1, 2, 3, 4]), ref('other@host', 1, [1, 2, 3, 4, 5]),
           ref('other@host', 1, [9]), ref('other@host', 1, []),
           {self(), make_ref()}, [pid('a@b', 1, 2, 3), port('a@b', 4, 5), ref('a@b', 6, [7, 8, 9])],
           #{pid('a@b', 1, 2, 3) => pid, ref('a@b', 6, [7, 8, 9]) => ref},
           {'$gen_call', {pid('caller@host', 88, 0, 3), [alias | ref('caller@host', 3, [1, 2, 3])]},
            {put, <<"key">>, 1}}]).

funs() ->
    Y = 42,
    Pid = pid('a@b', 1, 2, 3),
    named("fun",
          [fun lists:map/2, fun erlang:'+'/2, fun 'Mod':'f g'/0, fun m:f/255,
           fun ?MODULE:main/1, fun() -> ok end, fun(X) -> X end,
           fun(X) -> X + Y end, fun(X) -> {X, Pid, Y, <<"env">>} end,
           {fun(A, B) -> A + B end}, [fun(_) -> Y end, fun lists:sort/1]]).

mixed() ->
    named("mixed",
          [{'$gen_call', {self(), [alias | make_ref()]}, {put, <<"a">>, 1}},
           {'$gen_cast', {put, <<"k">>, [1, 2, 3]}},
           {ok, #{name => <<"Joe">>, age => 42, tags => [a, b], score => 1.5}},
           [{K, integer_to_binary(K)} || K <- lists:seq(1, 50)],
           #{users => [#{id => I, name => <<"user", (integer_to_binary(I))/binary>>}
                       || I <- lists:seq(1, 20)]},
           {1, 1.0, 1 bsl 80, a, "s", <<"b">>, [x | y], {}, #{}, []}]).

%% Typical distribution payloads, timed by bench/codec_bench.cpp and bench/codec_beam_bench.erl.
bench_messages() ->
    Caller = pid('caller@host', 88, 0, 3),
    Ref = ref('caller@host', 3, [123456, 2, 3]),
    [{"bench_gen_call", {'$gen_call', {Caller, [alias | Ref]}, {put, <<"key">>, 1}}},
     {"bench_gen_reply", {[alias | Ref], ok}},
     {"bench_small_map", #{name => <<"Joe">>, age => 42, tags => [a, b], score => 1.5}},
     {"bench_int_list", lists:seq(1000, 1100)},
     {"bench_binary_1k", binary:copy(<<"0123456789abcdef">>, 64)},
     {"bench_records", [{user, I, <<"name">>, I * 1.5, [tag1, tag2]} || I <- lists:seq(1, 20)]}].

named(Prefix, Terms) ->
    lists:zip([Prefix ++ "_" ++ integer_to_list(I) || I <- lists:seq(1, length(Terms))], Terms).

%% ---- Crafted inputs in formats term_to_binary no longer writes ----

a(Name) -> N = atom_to_binary(Name, latin1), <<100, (byte_size(N)):16, N/binary>>.

f99(Text) -> Pad = 31 - byte_size(Text), <<131, 99, Text/binary, 0:(Pad * 8)>>.

crafted() ->
    Node = a('other@host'),
    [{"float_ext", f99(<<"1.50000000000000000000e+00">>)},
     {"float_ext_short", f99(<<"1.5">>)},
     {"float_ext_exp", f99(<<"1.5e3">>)},
     {"float_ext_neg", f99(<<"-2.25000000000000000000e-01">>)},
     {"float_ext_plus", f99(<<"+1.5">>)},
     {"float_ext_comma", f99(<<"1,5">>)},
     {"float_ext_upper_e", f99(<<"1.5E3">>)},
     {"float_ext_negzero", f99(<<"-0.0">>)},
     {"float_ext_underflow", f99(<<"1.0e-999">>)},
     {"float_ext_nul_then_junk", <<131, 99, "1.5", 0, "junk", 0:(23 * 8)>>},
     {"float_ext_denormal", f99(<<"4.94065645841246544177e-324">>)},
     {"atom_ext", <<131, 100, 0, 5, "hello">>},
     {"atom_ext_latin1", <<131, 100, 0, 3, 233, 116, 233>>},
     {"atom_ext_255", <<131, 100, 0, 255, (binary:copy(<<233>>, 255))/binary>>},
     {"small_atom_ext", <<131, 115, 3, "abc">>},
     {"small_atom_ext_latin1", <<131, 115, 2, 223, 255>>},
     {"atom_utf8_ext_ascii", <<131, 118, 0, 3, "abc">>},
     {"atom_utf8_ext_latin1", <<131, 118, 0, 2, 195, 169>>},
     {"small_atom_utf8_ext_ascii", <<131, 119, 3, "abc">>},
     {"small_atom_utf8_ext_latin1", <<131, 119, 2, 195, 169>>},
     {"atom_utf8_ext_lambda", <<131, 118, 0, 2, 206, 187>>},
     {"atom_utf8_ext_255_emoji", <<131, 118, (255 * 4):16,
                                   (binary:copy(<<240, 159, 152, 128>>, 255))/binary>>},
     {"pid_ext", <<131, 103, Node/binary, 0, 0, 0, 1, 0, 0, 0, 2, 3>>},
     {"pid_ext_max", <<131, 103, Node/binary, 255, 255, 255, 255, 255, 255, 255, 255, 0>>},
     {"pid_node_small_atom", <<131, 88, 115, 3, "a@b", 0, 0, 0, 1, 0, 0, 0, 2, 0, 0, 0, 0>>},
     {"pid_node_empty_atom", <<131, 88, 100, 0, 0, 0, 0, 0, 1, 0, 0, 0, 2, 0, 0, 0, 0>>},
     {"port_ext", <<131, 102, Node/binary, 0, 0, 0, 9, 3>>},
     {"port_ext_max", <<131, 102, Node/binary, 255, 255, 255, 255, 1>>},
     {"new_port_ext_small", <<131, 89, Node/binary, 0, 0, 0, 9, 0, 0, 0, 5>>},
     {"new_port_ext_big", <<131, 89, Node/binary, 255, 255, 255, 255, 0, 0, 0, 5>>},
     {"v4_port_ext_small", <<131, 120, Node/binary, 0:64, 0, 0, 0, 5>>},
     {"reference_ext", <<131, 101, Node/binary, 0, 0, 0, 7, 2>>},
     {"new_reference_ext", <<131, 114, 0, 3, Node/binary, 2, 0, 0, 0, 7, 0, 0, 0, 1, 0, 0, 0, 2>>},
     {"new_reference_ext_1", <<131, 114, 0, 1, Node/binary, 1, 0, 3, 255, 255>>},
     {"new_reference_ext_5", <<131, 114, 0, 5, Node/binary, 0, 0:32, 1:32, 2:32, 3:32, 4:32>>},
     {"newer_reference_ext_0", <<131, 90, 0, 0, Node/binary, 0, 0, 0, 5>>},
     {"small_big_5", <<131, 110, 1, 0, 5>>},
     {"small_big_neg_5", <<131, 110, 1, 1, 5>>},
     {"small_big_zero", <<131, 110, 0, 0>>},
     {"small_big_negzero", <<131, 110, 1, 1, 0>>},
     {"small_big_leading_zeros", <<131, 110, 4, 0, 5, 0, 0, 0>>},
     {"small_big_int64_max", <<131, 110, 8, 0, 255, 255, 255, 255, 255, 255, 255, 127>>},
     {"small_big_int64_min", <<131, 110, 8, 1, 0, 0, 0, 0, 0, 0, 0, 128>>},
     {"small_big_sign_2", <<131, 110, 1, 2, 5>>},
     {"large_big_small", <<131, 111, 0, 0, 0, 2, 0, 1, 1>>},
     {"large_big_padded", <<131, 111, 0, 0, 0, 12, 0, 0:64, 0, 0, 1, 0>>},
     {"integer_ext_small", <<131, 98, 0, 0, 0, 5>>},
     {"integer_ext_neg", <<131, 98, 255, 255, 255, 251>>},
     {"list_of_bytes", <<131, 108, 0, 0, 0, 3, 97, 1, 97, 2, 97, 3, 106>>},
     {"list_nested_tail", <<131, 108, 0, 0, 0, 1, 97, 1, 108, 0, 0, 0, 1, 97, 2, 106>>},
     {"list_nested_tail_mixed", <<131, 108, 0, 0, 0, 1, 100, 0, 1, $a, 108, 0, 0, 0, 1, 97, 2, 106>>},
     {"list_string_tail", <<131, 108, 0, 0, 0, 1, 97, 1, 107, 0, 2, 2, 3>>},
     {"list_string_tail_atom", <<131, 108, 0, 0, 0, 1, 100, 0, 1, $a, 107, 0, 2, 2, 3>>},
     {"list_empty_tail_nil", <<131, 108, 0, 0, 0, 0, 106>>},
     {"list_empty_tail_int", <<131, 108, 0, 0, 0, 0, 97, 1>>},
     {"list_nested_improper", <<131, 108, 0, 0, 0, 1, 97, 1, 108, 0, 0, 0, 1, 97, 2, 97, 3>>},
     {"string_empty", <<131, 107, 0, 0>>},
     {"large_tuple_small", <<131, 105, 0, 0, 0, 2, 97, 1, 97, 2>>},
     {"large_tuple_empty", <<131, 105, 0, 0, 0, 0>>},
     {"bit_binary_8", <<131, 77, 0, 0, 0, 2, 8, 1, 2>>},
     {"bit_binary_empty", <<131, 77, 0, 0, 0, 0, 0>>},
     {"bit_binary_garbage", <<131, 77, 0, 0, 0, 1, 3, 255>>},
     {"map_unsorted", <<131, 116, 0, 0, 0, 2, 100, 0, 1, $b, 97, 1, 100, 0, 1, $a, 97, 2>>},
     {"map_unsorted_numbers", <<131, 116, 0, 0, 0, 3, 70, 63, 240, 0:48, 97, 1, 97, 2, 97, 2,
                                97, 1, 97, 3>>},
     {"export_small_atoms", <<131, 113, 115, 1, $m, 119, 1, $f, 97, 2>>},
     {"compressed_level9", term_to_binary(lists:seq(1, 500), [{compressed, 9}])},
     {"compressed_level1", term_to_binary(lists:duplicate(100, {a, b}), [{compressed, 1}])},
     {"compressed_small", <<131, 80, 0, 0, 0, 2, (zlib:compress(<<97, 5>>))/binary>>}].

compressed_terms() ->
    named("compressed",
          [lists:duplicate(1000, a), binary:copy(<<"abcdefgh">>, 10000), lists:seq(1, 2000),
           maps:from_list([{I, <<"v">>} || I <- lists:seq(1, 100)]),
           {a, binary:copy(<<0>>, 5000), [x || _ <- lists:seq(1, 300)]},
           a, lists:seq(1, 100), lists:duplicate(10, 1000), <<"short">>,
           lists:duplicate(20, 1000), lists:duplicate(30, {ok})]).

%% ---- Inputs binary_to_term rejects ----

bad() ->
    Node = a('other@host'),
    [{"empty", <<>>},
     {"version_only", <<131>>},
     {"bad_version", <<130, 97, 1>>},
     {"unknown_tag", <<131, 200>>},
     {"unknown_tag_in_tuple", <<131, 104, 1, 1>>},
     {"dup_map_keys", <<131, 116, 0, 0, 0, 2, 100, 0, 1, $a, 97, 1, 100, 0, 1, $a, 97, 2>>},
     {"dup_map_keys_zero", <<131, 116, 0, 0, 0, 2, 70, 0:64, 97, 1, 70, 128, 0:56, 97, 2>>},
     {"bit_binary_0_bits", <<131, 77, 0, 0, 0, 1, 0, 5>>},
     {"bit_binary_9_bits", <<131, 77, 0, 0, 0, 1, 9, 5>>},
     {"bit_binary_empty_3", <<131, 77, 0, 0, 0, 0, 3>>},
     {"nan", <<131, 70, 127, 248, 0, 0, 0, 0, 0, 0>>},
     {"inf", <<131, 70, 127, 240, 0, 0, 0, 0, 0, 0>>},
     {"float_ext_junk", f99(<<"1.5abc">>)},
     {"float_ext_space", f99(<<" 1.5">>)},
     {"float_ext_no_dot", f99(<<"15">>)},
     {"float_ext_overflow", f99(<<"1.0e999">>)},
     {"float_ext_empty", f99(<<>>)},
     {"atom_256_latin1", <<131, 100, 1, 0, (binary:copy(<<"a">>, 256))/binary>>},
     {"atom_256_utf8", <<131, 118, 1, 0, (binary:copy(<<"a">>, 256))/binary>>},
     {"atom_256_emoji", <<131, 118, (256 * 4):16, (binary:copy(<<240, 159, 152, 128>>, 256))/binary>>},
     {"atom_utf8_surrogate", <<131, 119, 3, 237, 160, 128>>},
     {"atom_utf8_overlong", <<131, 119, 2, 192, 128>>},
     {"atom_utf8_truncated_char", <<131, 119, 1, 206>>},
     {"atom_utf8_above_max", <<131, 119, 4, 244, 144, 128, 128>>},
     {"pid_ext_creation_4", <<131, 103, Node/binary, 0, 0, 0, 1, 0, 0, 0, 2, 4>>},
     {"pid_node_not_atom", <<131, 88, 97, 1, 0, 0, 0, 1, 0, 0, 0, 2, 0, 0, 0, 0>>},
     {"port_ext_creation_4", <<131, 102, Node/binary, 0, 0, 0, 9, 4>>},
     {"reference_ext_big_id", <<131, 101, Node/binary, 0, 4, 0, 7, 2>>},
     {"new_reference_ext_6", <<131, 114, 0, 6, Node/binary, 2, 0:(6 * 32)>>},
     {"new_reference_ext_cre4", <<131, 114, 0, 1, Node/binary, 4, 0:32>>},
     {"newer_reference_ext_6", <<131, 90, 0, 6, Node/binary, 0:32, 0:(6 * 32)>>},
     {"nested_compressed", <<131, 104, 1, 80, 0, 0, 0, 1, 120, 156, 75, 4, 0, 0, 98, 0, 98>>},
     {"compressed_wrong_size", <<131, 80, 0, 0, 0, 3, (zlib:compress(<<97, 5>>))/binary>>},
     {"compressed_garbage", <<131, 80, 0, 0, 0, 2, 1, 2, 3, 4, 5, 6>>},
     {"tuple_too_long", <<131, 104, 3, 97, 1>>},
     {"list_too_long", <<131, 108, 255, 255, 255, 255, 106>>},
     {"binary_too_long", <<131, 109, 255, 255, 255, 255, 1>>},
     {"map_too_long", <<131, 116, 255, 255, 255, 255>>},
     {"big_too_long", <<131, 111, 255, 255, 255, 255, 0, 1>>},
     {"string_too_long", <<131, 107, 255, 255, 1>>},
     {"list_no_tail", <<131, 108, 0, 0, 0, 1, 97, 1>>},
     {"fun_truncated", <<131, 112, 0, 0, 0, 100, 0>>},
     {"export_bad_arity", <<131, 113, 100, 0, 1, $m, 100, 0, 1, $f, 100, 0, 1, $a>>}].

%% ---- Term order: lists:sort of mixed terms ----

sort_lists() ->
    Numbers = [0, 1, -1, 1.0, -1.0, 0.5, 2, 2.0, 1 bsl 70, -(1 bsl 70), 1.0e30, -1.0e30, 1.2e21,
               float(1 bsl 63), 1 bsl 63, (1 bsl 63) - 1, float(1 bsl 64), 1 bsl 64,
               (1 bsl 64) + 1, 0.0, 1 bsl 53 + 1, float(1 bsl 53), 1.0e-300, -1.0e-300,
               1 bsl 1000, 1.0e308, -1.0e308, 3, 2.9999999999999996, 9007199254740993,
               9007199254740992.0, -(1 bsl 63), float(-(1 bsl 63)), -(1 bsl 63) - 1],
    Atoms = ['', a, b, aa, 'A', 'Z', z, 'é', list_to_atom([955]), ok, error, 'a b', zz],
    Pids = [pid('a@b', 1, 2, 1), pid('a@b', 2, 1, 1), pid('a@b', 1, 1, 2), pid('b@b', 0, 0, 0),
            pid('a@b', 1, 1, 1), pid('a@a', 5, 5, 5), pid('a@b', 1, 1, 0), self()],
    Ports = [port('a@b', 5, 1), port('a@b', 3, 2), port('a@a', 9, 9), port('a@b', 1 bsl 40, 1),
             hd(erlang:ports())],
    Refs = [ref('a@b', 1, [1, 2, 3]), ref('a@b', 1, [2, 1, 3]), ref('a@b', 1, [1, 2]),
            ref('a@b', 1, [5]), ref('a@b', 1, [1, 1, 4]), ref('a@b', 0, [9, 9, 9]),
            ref('a@b', 1, [0, 0, 0, 0, 1]), ref('a@a', 7, [1]), ref('a@b', 1, []), make_ref()],
    Y = 1,
    Funs = [fun lists:sort/1, fun lists:map/2, fun erlang:abs/1, fun a:b/0, fun a:b/1,
            fun(X) -> X end, fun(X) -> X + Y end, fun() -> ok end],
    Tuples = [{}, {a}, {b}, {a, b}, {1, 2}, {1.0, 2}, {a, b, c}, {{}}, {[]}, {0}],
    Maps = [#{}, #{1 => a}, #{1.0 => a}, #{2 => a}, #{1 => b}, #{a => 1}, #{a => 1, b => 2},
            #{a => 2, b => 1}, #{b => 1, c => 1}, #{1 => a, 1.0 => a}, #{0 => x, 1.0 => y}],
    Lists = [[], [a], [a, b], [a | b], [a | c], [1, 2], [1.0, 1], [1, 2.0], [1.0, 2],
             "abc", "abd", "ab", [97, 98, 99, 0], [a | 1], [[]], [[a]], [256], [255],
             [1 | 2], [1, 2 | 3], [1 | {}], [1 | <<>>]],
    Bits = [<<1:3>>, <<1>>, <<0:1>>, <<32:6>>, <<>>, <<1, 2>>, <<1, 2:2>>, <<255>>,
            <<"abc">>, <<"ab">>, <<"abd">>, <<0>>, <<0, 0>>, <<128:8>>, <<1:1>>],
    Mixed = [1, a, make_ref(), fun lists:sort/1, hd(erlang:ports()), self(), {}, #{}, [],
             [a], <<>>, 1.0, fun() -> x end, pid('z@z', 0, 0, 0), port('z@z', 0, 0),
             ref('z@z', 0, [0]), 1 bsl 100, {a, b}, #{a => b}, "s", <<1:1>>],
    [{"numbers", Numbers}, {"atoms", Atoms}, {"pids", Pids}, {"ports", Ports},
     {"refs", Refs}, {"funs", Funs}, {"tuples", Tuples}, {"maps", Maps}, {"lists", Lists},
     {"bitstrings", Bits}, {"mixed", Mixed}, {"all", Numbers ++ Atoms ++ Tuples ++ Lists ++ Bits}].
