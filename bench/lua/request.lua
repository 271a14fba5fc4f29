-- The one request a wrk run repeats, as the environment describes it:
--   BENCH_PATH    the path (required)
--   BENCH_METHOD  GET unless given (POST for creating an incident)
--   BENCH_TOKEN   a bearer token, if any
--   BENCH_BODY    a JSON body, if any
--   BENCH_IDS     if given, each request appends a random id from 1 to this to the path
wrk.method = os.getenv("BENCH_METHOD") or "GET"
wrk.path = os.getenv("BENCH_PATH")
local token = os.getenv("BENCH_TOKEN")
if token then
  wrk.headers["Authorization"] = "Bearer " .. token
end
local body = os.getenv("BENCH_BODY")
if body then
  wrk.headers["Content-Type"] = "application/json"
  wrk.body = body
end
local top = tonumber(os.getenv("BENCH_IDS") or "")
if top then
  request = function()
    return wrk.format(nil, wrk.path .. math.random(1, top))
  end
end

-- The first answer that is not 2xx, on stderr, so that a failing run says why.
local shown = false
response = function(status, headers, body)
  if status >= 300 and not shown then
    shown = true
    io.stderr:write(status .. " " .. body:sub(1, 300) .. "\n")
  end
end
