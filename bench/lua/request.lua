-- The one request a wrk run repeats, as the environment describes it:
--   BENCH_PATH    the path (required)
--   BENCH_METHOD  GET unless given (POST for creating an incident)
--   BENCH_TOKEN   a bearer token, if any
--   BENCH_BODY    a JSON body, if any
--   BENCH_IDS     if given, each request appends a random id from 1 to this to the path
--   BENCH_COOKIES if given, Cookie header values separated by spaces; each request sends one
--                 of them, chosen at random (the web pages' sessions)
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
local cookies = {}
for cookie in string.gmatch(os.getenv("BENCH_COOKIES") or "", "%S+") do
  cookies[#cookies + 1] = cookie
end
if #cookies == 1 then
  wrk.headers["Cookie"] = cookies[1]
end
local top = tonumber(os.getenv("BENCH_IDS") or "")
if top or #cookies > 1 then
  request = function()
    if #cookies > 1 then
      wrk.headers["Cookie"] = cookies[math.random(1, #cookies)]
    end
    local path = wrk.path
    if top then
      path = path .. math.random(1, top)
    end
    return wrk.format(nil, path)
  end
end

-- Every answer that is not 2xx is counted (wrk itself counts only 4xx and 5xx, and a page
-- that redirects to sign-in is a 302), and the first is shown on stderr, so that a failing run
-- says why.
local threads = {}

function setup(thread)
  threads[#threads + 1] = thread
end

not_2xx = 0
local shown = false
response = function(status, headers, body)
  if status >= 300 then
    not_2xx = not_2xx + 1
    if not shown then
      shown = true
      io.stderr:write(status .. " " .. (headers["Location"] or "") .. " "
                      .. body:sub(1, 300) .. "\n")
    end
  end
end

function done(summary, latency, requests)
  local total = 0
  for _, thread in ipairs(threads) do
    total = total + (thread:get("not_2xx") or 0)
  end
  io.write("Answers not 2xx: " .. total .. "\n")
end
