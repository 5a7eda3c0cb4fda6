-- wrk script of `make bench-xps`: every request is a POST with a small
-- form body (Content-Length is added by wrk), which nginx refuses with 405
-- (stock) or the XPS http handler refuses in the kernel.
wrk.method = "POST"
wrk.body = "name=xps&value=1"
wrk.headers["Content-Type"] = "application/x-www-form-urlencoded"
