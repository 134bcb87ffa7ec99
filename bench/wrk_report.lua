-- wrk script: optional rotation over several request paths, and a one-line JSON summary.
-- Usage: wrk ... -s bench/wrk_report.lua http://127.0.0.1:PORT -- [/path1 /path2 ...]
-- With paths, each request takes the next one (e.g. different search terms); without, the URL's.
local paths = {}
local counter = 0

function init(args)
  for i = 1, #args do
    paths[#paths + 1] = args[i]
  end
end

function request()
  if #paths == 0 then
    return wrk.format()
  end
  counter = counter + 1
  return wrk.format(nil, paths[(counter % #paths) + 1])
end

function done(summary, latency, requests)
  local e = summary.errors
  io.write(string.format(
    'BENCH_JSON {"requests":%d,"duration_us":%d,"bytes":%d,' ..
    '"errors":{"connect":%d,"read":%d,"write":%d,"status":%d,"timeout":%d},' ..
    '"latency_us":{"mean":%.1f,"max":%d,"p50":%d,"p90":%d,"p95":%d,"p99":%d}}\n',
    summary.requests, summary.duration, summary.bytes,
    e.connect, e.read, e.write, e.status, e.timeout,
    latency.mean, latency.max, latency:percentile(50), latency:percentile(90),
    latency:percentile(95), latency:percentile(99)))
end
