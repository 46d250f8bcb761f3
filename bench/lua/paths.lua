-- GET a list of paths in turn (one per line in the file given as the first script argument) and
-- print the summary as one JSON line, so that bench/wrk.py can read it.
local paths = {}
local counter = 0

function init(args)
  for line in io.lines(args[1]) do
    paths[#paths + 1] = line
  end
  counter = math.random(#paths)
end

function request()
  counter = counter + 1
  -- As a browser asks: a page of JSON travels gzipped.
  return wrk.format("GET", paths[(counter % #paths) + 1], {["Accept-Encoding"] = "gzip"})
end

dofile(os.getenv("BENCH_LUA") .. "/summary.lua")
