-- POST a new incident: token check, validation, reference number, audit entry, outbox mail and
-- a durable commit, as every real report.
wrk.method = "POST"
wrk.path = "/api/v1/incidents"
wrk.headers["Content-Type"] = "application/json"
wrk.headers["Authorization"] = "Bearer " .. os.getenv("BENCH_TOKEN")
wrk.body = os.getenv("BENCH_BODY")

-- The first answer that is not 2xx, on stderr, so that a failing run says why.
local shown = false
response = function(status, headers, body)
  if status >= 300 and not shown then
    shown = true
    io.stderr:write(status .. " " .. body:sub(1, 300) .. "\n")
  end
end
