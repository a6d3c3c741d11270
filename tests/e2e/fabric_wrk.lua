-- SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
-- wrk's keep-alive load in the fabric suite (tests/e2e/fabric.sh):
--   wrk ... -s fabric_wrk.lua http://VIP:PORT/PATH -- WANT DELAY-MS
-- each connection sends a request DELAY-MS after its last answer (a paced
-- load: the machine's 2 cores are shared); every answer must be 302 with
-- Location = WANT .. PATH. done() prints one line: the requests, wrk's
-- error counts (connect, read, write, timeout, status: non-2xx/3xx) and
-- the answers that were not that redirect.
local threads = {}

function setup(thread)
	table.insert(threads, thread)
end

function init(args)
	want = args[1] .. wrk.path
	pause = tonumber(args[2])
	bad = 0
	first_bad = ""
end

function delay()
	return pause
end

function response(status, headers, body)
	local loc = headers["Location"] or headers["location"]
	if status ~= 302 or loc ~= want then
		bad = bad + 1
		if first_bad == "" then
			first_bad = status .. " " .. tostring(loc)
		end
	end
end

function done(summary, latency, requests)
	local e = summary.errors
	local nbad, first = 0, ""
	for _, t in ipairs(threads) do
		nbad = nbad + t:get("bad")
		if first == "" then
			first = t:get("first_bad")
		end
	end
	io.write(string.format("wrk: %d requests; errors: connect %d, read %d, write %d, timeout %d, status %d; not the redirect: %d%s\n",
		summary.requests, e.connect, e.read, e.write, e.timeout, e.status,
		nbad, first ~= "" and (" (first: " .. first .. ")") or ""))
end
