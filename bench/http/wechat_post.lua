-- wrk script: POSTs plaintext WeChat text callbacks, each with a MsgId no other request of the run
-- uses (thread id * 10^12 + counter, offset by the run's start second so reruns against the same
-- outbox are new too). QUERY comes from the environment: the signed ?signature&timestamp&nonce.
local threads = {}
local next_id = 0

function setup(thread)
  thread:set("tid", next_id)
  next_id = next_id + 1
  table.insert(threads, thread)
end

function init(args)
  counter = 0
  base = (os.time() % 100000) * 10000000000000 + tid * 1000000000000
  path = "/wechat?" .. os.getenv("QUERY")
end

function request()
  counter = counter + 1
  local id = base + counter
  local body = "<xml><ToUserName><![CDATA[gh_0123456789ab]]></ToUserName>" ..
    "<FromUserName><![CDATA[oBENCH" .. tid .. "]]></FromUserName><CreateTime>1718000000</CreateTime>" ..
    "<MsgType><![CDATA[text]]></MsgType><Content><![CDATA[幸福路12号门口垃圾三天没人清运 " .. id .. "]]></Content>" ..
    "<MsgId>" .. id .. "</MsgId></xml>"
  return wrk.format("POST", path, {["Content-Type"] = "text/xml"}, body)
end

function done(summary, latency, requests)
  local non2xx = summary.errors.status
  io.write(string.format("RESULT requests=%d duration_s=%.2f rps=%.0f p50_ms=%.2f p99_ms=%.2f max_ms=%.2f non2xx=%d sock_err=%d\n",
    summary.requests, summary.duration / 1e6, summary.requests / (summary.duration / 1e6),
    latency:percentile(50) / 1000, latency:percentile(99) / 1000, latency.max / 1000, non2xx,
    summary.errors.connect + summary.errors.read + summary.errors.write + summary.errors.timeout))
end
