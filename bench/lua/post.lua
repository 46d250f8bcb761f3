-- POST unique events: args are MODE ("threadlog" or "isso"), BATCH (events per request, threadlog
-- only) and KEY (threadlog's API key). Each wrk thread numbers its own events, so every event id
-- and comment id is unique across threads and runs.
local counter = 0
local prefix, mode, batch, key

function setup(thread)
  thread:set("tid", tostring(math.random(1000000000)))
end

function init(args)
  mode = args[1]
  batch = tonumber(args[2] or "1")
  key = args[3] or ""
  prefix = tid .. "-" .. tostring(os.time())
end

local function comment()
  counter = counter + 1
  local id = prefix .. "-" .. counter
  return string.format(
    '{"id":"b-%s","type":"CommentPosted","data":{"article_id":"bench-post-%d","comment_id":"%s","author_id":"user-%d","author_name":"Bench","body":"A benchmark comment, number %s, with a few words."}}',
    id, counter % 100, id, counter % 1000, id)
end

function request()
  if mode == "isso" then
    counter = counter + 1
    local body = string.format(
      '{"text":"A benchmark comment, number %s-%d, with a few words.","author":"Bench","title":"Bench"}',
      prefix, counter)
    return wrk.format("POST", "/new?uri=%2Fbench-post", {["Content-Type"] = "application/json"}, body)
  end
  local items = {}
  for i = 1, batch do
    items[i] = comment()
  end
  local body = batch == 1 and items[1] or ("[" .. table.concat(items, ",") .. "]")
  return wrk.format("POST", "/v1/events",
    {["Content-Type"] = "application/json", ["Authorization"] = "Bearer " .. key}, body)
end

dofile(os.getenv("BENCH_LUA") .. "/summary.lua")
