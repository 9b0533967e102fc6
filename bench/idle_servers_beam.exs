# SPDX-License-Identifier: Apache-2.0
# Memory per idle BEAM GenServer: starts N seed Counters (erlang_test_harness/seeds/seeds.ex)
# and reports the growth of the OS process's resident set, like bench/idle_servers does.
# Usage: elixir --erl "+P 2000000" -r erlang_test_harness/seeds/seeds.ex bench/idle_servers_beam.exs N
[n] = System.argv() |> Enum.map(&String.to_integer/1)

rss_kib = fn ->
  File.read!("/proc/self/status")
  |> String.split("\n")
  |> Enum.find(&String.starts_with?(&1, "VmRSS:"))
  |> String.split()
  |> Enum.at(1)
  |> String.to_integer()
end

:erlang.garbage_collect()
before = rss_kib.()
pids = for _ <- 1..n, do: elem(Counter.start_link(0, []), 1)
Process.sleep(200)
after_ = rss_kib.()
IO.puts("#{length(pids)} #{after_ - before} #{Float.round((after_ - before) * 1024 / n, 1)}")
