-- GET one fixed path (the reference endpoint, a page of the incident list).
wrk.headers["Authorization"] = "Bearer " .. (os.getenv("BENCH_TOKEN") or "")
wrk.path = os.getenv("BENCH_PATH")

-- The first answer that is not 2xx, on stderr, so that a failing run says why.
local shown = false
response = function(status, headers, body)
  if status >= 300 and not shown then
    shown = true
    io.stderr:write(status .. " " .. body:sub(1, 300) .. "\n")
  end
end
