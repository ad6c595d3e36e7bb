-- wrk script: POSTs plaintext WeChat text callbacks, each with a MsgId no other request of the run
-- uses: the decimal digits "<start second mod 10^5><thread, 2 digits><counter, 10 digits>", built
-- with string.format("%d") on small integers — LuaJIT's numbers are doubles, and a 17-digit sum
-- would print as 5.2089000000001e+17, so most ids of a run collided and hit the duplicate path.
-- Reruns against the same outbox are new too. QUERIES (environment) names a file of signed
-- "signature&timestamp&nonce" queries, one per line: the adapter refuses a nonce reused with
-- another body as a replay, so thread t of n takes lines t, t+n, t+2n, ...
local threads = {}
local next_id = 0

function setup(thread)
  thread:set("tid", next_id)
  next_id = next_id + 1
  table.insert(threads, thread)
  for _, t in ipairs(threads) do t:set("next_id_total", next_id) end
end

function init(args)
  counter = 0
  base = string.format("%d%02d", os.time() % 100000 + 10000, tid)
  queries = {}
  local n = 0
  local i = 0
  for line in io.lines(os.getenv("QUERIES")) do
    if i % next_id_total == tid then
      n = n + 1
      queries[n] = line
    end
    i = i + 1
  end
end

function request()
  counter = counter + 1
  -- Past the end the queries repeat: those requests are refused as replays (non2xx > 0).
  local path = "/wechat?" .. queries[(counter - 1) % #queries + 1]
  local id = base .. string.format("%010d", counter)
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
