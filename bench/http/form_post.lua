-- wrk script: POSTs urlencoded web forms (the H5 page's fields, UTF-8) with a submission_id no other
-- request of the run uses ("<start second>-<thread>-<counter>", formatted as integers: LuaJIT's
-- numbers are doubles and would print large ids as 1.2e+17), so every request is a new event in
-- the outbox, reruns against the same outbox included.
local threads = {}
local next_id = 0

function setup(thread)
  thread:set("tid", next_id)
  next_id = next_id + 1
  table.insert(threads, thread)
end

function init(args)
  counter = 0
  base = string.format("b%d-%d-", os.time(), tid)
end

-- 幸福路12号门口垃圾三天没人清运 / 张先生, percent-encoded UTF-8
local content = "%E5%B9%B8%E7%A6%8F%E8%B7%AF12%E5%8F%B7%E9%97%A8%E5%8F%A3%E5%9E%83%E5%9C%BE%E4%B8%89%E5%A4%A9" ..
  "%E6%B2%A1%E4%BA%BA%E6%B8%85%E8%BF%90"
local name = "%E5%BC%A0%E5%85%88%E7%94%9F"

function request()
  counter = counter + 1
  local id = base .. string.format("%d", counter)
  local body = "src=h5&submission_id=" .. id .. "&name=" .. name .. "&tel=138+0000+0001&content=" .. content ..
    "+" .. id .. "&addr=&lat=34.263356&lng=108.205395&coord=gcj02"
  return wrk.format("POST", "/form", {["Content-Type"] = "application/x-www-form-urlencoded"}, body)
end

function done(summary, latency, requests)
  local non2xx = summary.errors.status
  io.write(string.format("RESULT requests=%d duration_s=%.2f rps=%.0f p50_ms=%.2f p99_ms=%.2f max_ms=%.2f non2xx=%d sock_err=%d\n",
    summary.requests, summary.duration / 1e6, summary.requests / (summary.duration / 1e6),
    latency:percentile(50) / 1000, latency:percentile(99) / 1000, latency.max / 1000, non2xx,
    summary.errors.connect + summary.errors.read + summary.errors.write + summary.errors.timeout))
end
