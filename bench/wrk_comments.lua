-- wrk script of bench/intake.py: each request posts the next JSON body of a file (one per line), every
-- thread its own share, and every 201's receipt number is written to a file per thread.
-- wrk -s bench/wrk_comments.lua URL -- BODIES_FILE THREADS OUT_PREFIX

local counter = 0

function setup(thread)
  thread:set("id", counter)
  counter = counter + 1
end

function init(args)
  bodies = {}
  for line in io.lines(args[1]) do bodies[#bodies + 1] = line end
  stride = tonumber(args[2])
  index = id
  acks = io.open(args[3] .. "." .. id, "w")
  acks:setvbuf("line")
  wrk.method = "POST"
  wrk.headers["Content-Type"] = "application/json"
end

function request()
  local body = bodies[(index % #bodies) + 1]
  index = index + stride
  return wrk.format(nil, nil, nil, body)
end

function response(status, headers, body)
  if status == 201 then
    local number = string.match(body, '"receipt_number"%s*:%s*"([^"]+)"')
    if number then acks:write(number, "\n") end
  end
end

function done(summary, latency, requests)
  local out = io.open(os.getenv("WRK_SUMMARY"), "w")
  local e = summary.errors
  out:write(string.format("requests %d\nduration_us %d\nconnect %d\nread %d\nwrite %d\nstatus %d\ntimeout %d\n",
    summary.requests, summary.duration, e.connect, e.read, e.write, e.status, e.timeout))
  for _, p in ipairs({50, 95, 99}) do
    out:write(string.format("p%d_us %d\n", p, latency:percentile(p)))
  end
  out:write(string.format("max_us %d\n", latency.max))
  out:close()
end
