-- A mixed read and write load on `yuanjiang serve`, for wrk 4 (LuaJIT).
-- tests/reliability/load.py drafts the projects, makes the token and runs
--
--   wrk -c 200 -t 2 -d 300s --latency -s tests/reliability/load.lua http://127.0.0.1:PORT
--
-- with these environment variables:
--
--   YJ_LOAD_TOKEN        bearer token of `sh-officer` (front command, supporter 31)
--   YJ_LOAD_READ_CODES   project codes to read, comma-separated (demo projects)
--   YJ_LOAD_WRITE_CODES  project codes to write, comma-separated (fresh drafts of
--                        supporter 31, whose fund chain has room: see load.py)
--   YJ_LOAD_EDIT_BODY    the PUT body, JSON, with __CODE__ and __NAME__ in it
--   YJ_LOAD_TAG          makes document numbers unique across runs (the pid)
--   YJ_LOAD_SEED         seeds each thread's RNG (with the thread's number)
--
-- Each request is drawn from a fixed distribution:
--
--   30 %  GET /api/v1/projects/{code}          a demo project, by code
--   20 %  GET /api/v1/projects?…               the list, with filters and paging
--   15 %  GET /api/v1/stats/funds?by=…         fund statistics (by=supporter,category,year …)
--   15 %  GET /                                the public dashboard, without the token
--   12 %  POST /api/v1/projects/{code}/transactions
--                                              a small commitment, transfer, allocation or
--                                              payment (1–1,000 fen) that cannot break the chain
--    8 %  an edit: PUT /api/v1/projects/{code} with If-Match when this thread holds
--         the project's ETag (it is then forgotten), else GET /api/v1/projects/{code}
--         for it (counted as an edit read). A stale ETag answers 412.
--
-- Every answer is counted by status per thread (`response`); `done` prints
-- one line `YJ_LOAD_RESULT {json}` with the counts, wrk's socket errors and
-- the latency percentiles in microseconds.

local threads = {}
local thread_count = 0

-- Main state: numbers the threads, keeps them for `done`.
function setup(thread)
   thread_count = thread_count + 1
   thread:set("id", thread_count)
   table.insert(threads, thread)
end

local function split(s)
   local out = {}
   for part in string.gmatch(s or "", "[^,]+") do
      out[#out + 1] = part
   end
   return out
end

local function need(name)
   local v = os.getenv(name)
   if v == nil or v == "" then
      error("load.lua: the environment variable " .. name .. " is not set (run it through load.py)")
   end
   return v
end

-- Thread state ---------------------------------------------------------------

local LISTS = {
   "/api/v1/projects?limit=20",
   "/api/v1/projects?supporter=31&limit=50",
   "/api/v1/projects?year=2025&limit=20",
   "/api/v1/projects?category=education&limit=20",
   "/api/v1/projects?supporter=31&state=under-construction&limit=20",
   "/api/v1/projects?recipient=6531&limit=20",
   "/api/v1/projects?in_plan=true&livelihood=true&limit=100",
   "/api/v1/projects?supporter=31&year=2024&category=industry&limit=10",
}

local STATS = {
   "/api/v1/stats/funds?by=supporter,category,year",
   "/api/v1/stats/funds?by=supporter,category,year",
   "/api/v1/stats/funds?by=prefecture,year&supporter=31",
   "/api/v1/stats/funds?by=category&year=2025",
   "/api/v1/stats/funds?by=month&year=2026&supporter=31",
}

-- Dates and amounts chosen so that no transaction can break the chain:
-- load.py puts, on each write project, a commitment of 50,000,000 yuan on
-- 2026-01-01, a transfer of 40,000,000 on 2026-01-15 and an allocation of
-- 10,000,000 on 2026-02-01; these post at most 10 yuan each on 2026-06-01,
-- where the room left on every step is at least 10,000,000 yuan.
local FUND_TYPES = { "commitment", "transfer", "allocation", "payment" }

function init(args)
   token = need("YJ_LOAD_TOKEN")
   read_codes = split(need("YJ_LOAD_READ_CODES"))
   write_codes = split(need("YJ_LOAD_WRITE_CODES"))
   edit_body = need("YJ_LOAD_EDIT_BODY")
   tag = os.getenv("YJ_LOAD_TAG") or "0"
   write_set = {}
   for _, c in ipairs(write_codes) do
      write_set[c] = true
   end
   math.randomseed((tonumber(os.getenv("YJ_LOAD_SEED") or "1") or 1) * 7919 + id)
   -- Read by `done` through thread:get.
   statuses = {}
   sent_read, sent_list, sent_stats, sent_dashboard = 0, 0, 0, 0
   sent_txn, sent_edit_get, sent_edit_put = 0, 0, 0
   seq = 0
   etags = {}    -- write project code -> the last ETag seen for it
   cursors = {}  -- next_cursor values seen in list answers (a ring of 64)
   ncursor = 0
end

local function pick(t)
   return t[math.random(#t)]
end

local function api_headers()
   return { ["Authorization"] = "Bearer " .. token, ["Accept"] = "application/json" }
end

local function json_headers()
   return {
      ["Authorization"] = "Bearer " .. token,
      ["Accept"] = "application/json",
      ["Content-Type"] = "application/json",
   }
end

function request()
   seq = seq + 1
   local r = math.random()
   if r < 0.30 then
      sent_read = sent_read + 1
      return wrk.format("GET", "/api/v1/projects/" .. pick(read_codes), api_headers())
   elseif r < 0.50 then
      sent_list = sent_list + 1
      local path = pick(LISTS)
      if ncursor > 0 and math.random() < 0.5 then
         path = path .. "&cursor=" .. cursors[math.random(math.min(ncursor, 64))]
      end
      return wrk.format("GET", path, api_headers())
   elseif r < 0.65 then
      sent_stats = sent_stats + 1
      return wrk.format("GET", pick(STATS), api_headers())
   elseif r < 0.80 then
      sent_dashboard = sent_dashboard + 1
      return wrk.format("GET", "/", { ["Accept"] = "text/html" })
   elseif r < 0.92 then
      sent_txn = sent_txn + 1
      local code = pick(write_codes)
      local body = string.format(
         '{"fund_type":"%s","amount":%d,"date":"2026-06-01","document_no":"负载〔%s-%d-%d〕号","note":"load"}',
         pick(FUND_TYPES), math.random(1, 1000), tag, id, seq)
      return wrk.format("POST", "/api/v1/projects/" .. code .. "/transactions", json_headers(), body)
   else
      local code = pick(write_codes)
      local etag = etags[code]
      if etag == nil then
         sent_edit_get = sent_edit_get + 1
         return wrk.format("GET", "/api/v1/projects/" .. code, api_headers())
      end
      etags[code] = nil
      sent_edit_put = sent_edit_put + 1
      local name = string.format("负载测试项目 %d-%d", id, seq)
      local body = string.gsub(string.gsub(edit_body, "__CODE__", code), "__NAME__", name)
      local h = json_headers()
      h["If-Match"] = etag
      return wrk.format("PUT", "/api/v1/projects/" .. code, h, body)
   end
end

function response(status, headers, body)
   statuses[status] = (statuses[status] or 0) + 1
   if status ~= 200 or body == nil then
      return
   end
   local etag = headers["ETag"] or headers["etag"] or headers["Etag"]
   if etag ~= nil then
      -- A project (GET or the answer to a PUT): remember its ETag if it is
      -- one of ours. `"code":"` is the project's own code (a transaction
      -- names its project in `project_code`).
      for code in string.gmatch(body, '"code":"([^"]+)"') do
         if write_set[code] then
            etags[code] = etag
            break
         end
      end
   else
      local cursor = string.match(body, '"next_cursor":(%d+)')
      if cursor ~= nil then
         ncursor = ncursor + 1
         cursors[(ncursor - 1) % 64 + 1] = cursor
      end
   end
end

-- Main state, after the run -------------------------------------------------

local function json_object(t)
   local keys = {}
   for k in pairs(t) do
      keys[#keys + 1] = k
   end
   table.sort(keys, function(a, b) return tostring(a) < tostring(b) end)
   local parts = {}
   for _, k in ipairs(keys) do
      local v = t[k]
      if type(v) == "table" then
         v = json_object(v)
      elseif type(v) == "number" then
         v = string.format("%.17g", v)
      else
         v = string.format("%q", tostring(v))
      end
      parts[#parts + 1] = string.format('"%s":%s', tostring(k), v)
   end
   return "{" .. table.concat(parts, ",") .. "}"
end

function done(summary, latency, requests)
   local by_status, classes = {}, { ["2xx"] = 0, ["3xx"] = 0, ["4xx"] = 0, ["5xx"] = 0, other = 0 }
   local sent = { read = 0, list = 0, stats = 0, dashboard = 0, txn = 0, edit_get = 0, edit_put = 0 }
   for _, thread in ipairs(threads) do
      local st = thread:get("statuses") or {}
      for status, n in pairs(st) do
         local s = tonumber(status)
         by_status[tostring(s)] = (by_status[tostring(s)] or 0) + n
         local class = (s >= 200 and s < 600) and (tostring(math.floor(s / 100)) .. "xx") or "other"
         if s < 200 then class = "other" end
         classes[class] = classes[class] + n
      end
      for kind in pairs(sent) do
         sent[kind] = sent[kind] + (thread:get("sent_" .. kind) or 0)
      end
   end
   local result = {
      duration_us = summary.duration,
      requests = summary.requests,
      bytes = summary.bytes,
      errors = {
         connect = summary.errors.connect,
         read = summary.errors.read,
         write = summary.errors.write,
         status = summary.errors.status,
         timeout = summary.errors.timeout,
      },
      classes = classes,
      statuses = by_status,
      sent = sent,
      latency_us = {
         min = latency.min,
         mean = latency.mean,
         p50 = latency:percentile(50),
         p90 = latency:percentile(90),
         p99 = latency:percentile(99),
         p999 = latency:percentile(99.9),
         max = latency.max,
      },
   }
   io.write("YJ_LOAD_RESULT " .. json_object(result) .. "\n")
end
