-- GET one incident, chosen at random among ids 1..BENCH_IDS (every read is audited).
wrk.headers["Authorization"] = "Bearer " .. os.getenv("BENCH_TOKEN")
local top = tonumber(os.getenv("BENCH_IDS"))
local path = os.getenv("BENCH_PATH")

request = function()
  return wrk.format("GET", path .. math.random(1, top))
end

-- The first answer that is not 2xx, on stderr, so that a failing run says why.
local shown = false
response = function(status, headers, body)
  if status >= 300 and not shown then
    shown = true
    io.stderr:write(status .. " " .. body:sub(1, 300) .. "\n")
  end
end
