-- wrk script for bench/gateway_overhead.sh: POSTs one fixed, small, non-streaming chat
-- completion request on every connection, and prints one machine-readable result line
-- (`WRK_RESULT key=value ...`, latencies in microseconds) after wrk's own report.
-- The model name is taken from the environment (WRK_MODEL, default "bench-model") so the
-- same body works against the mock directly, nginx in front of it, and the gateway.

local model = os.getenv("WRK_MODEL") or "bench-model"

wrk.method = "POST"
wrk.headers["Content-Type"] = "application/json"
wrk.body = '{"model":"' .. model .. '","messages":[' ..
    '{"role":"system","content":"You are a helpful assistant."},' ..
    '{"role":"user","content":"Say hello to the benchmark in five words."}],' ..
    '"max_tokens":32,"temperature":0.2}'

-- No request()/response() callbacks: wrk then sends the prebuilt request without calling
-- into Lua per request, so the client stays as cheap as possible.

function done(summary, latency, requests)
    local e = summary.errors
    io.write(string.format(
        "WRK_RESULT requests=%d duration_us=%d p50_us=%d p90_us=%d p99_us=%d p999_us=%d " ..
        "mean_us=%.1f max_us=%d err_connect=%d err_read=%d err_write=%d err_status=%d " ..
        "err_timeout=%d\n",
        summary.requests, summary.duration,
        latency:percentile(50), latency:percentile(90), latency:percentile(99),
        latency:percentile(99.9), latency.mean, latency.max,
        e.connect, e.read, e.write, e.status, e.timeout))
end
