# asyncfn Python bootstrap: runs a handler "path/file.func" (or "pkg.mod.func")
# from LAMBDA_TASK_ROOT through the Lambda Runtime API at AWS_LAMBDA_RUNTIME_API.
# Standard library only. Supports def and async def handlers.
import asyncio
import http.client
import importlib
import inspect
import json
import os
import sys
import time
import traceback

API = os.environ.get("AWS_LAMBDA_RUNTIME_API", "127.0.0.1:9001")
HOST, _, PORT = API.rpartition(":")
BASE = "/2018-06-01/runtime"


def flush_output():
    """Push what the handler printed to the pipe before answering: it belongs to
    its invocation. (stdout is unbuffered, but a handler may have buffered it
    again, e.g. sys.stdout.reconfigure(write_through=False), or replaced it.)"""
    for stream in (sys.stdout, sys.stderr, sys.__stdout__, sys.__stderr__):
        try:
            if stream is not None:
                stream.flush()
        except Exception:
            pass


class Client:
    """One keep-alive connection to the Runtime API, re-opened when it drops."""

    def __init__(self):
        self.conn = None

    def call(self, method, path, body=None, headers=None):
        if method == "POST":
            flush_output()
        for attempt in range(3):
            if self.conn is None:
                self.conn = http.client.HTTPConnection(HOST, int(PORT))
            try:
                self.conn.request(method, BASE + path, body=body, headers=headers or {})
                resp = self.conn.getresponse()
                data = resp.read()
                return resp.status, resp.headers, data
            except (http.client.HTTPException, ConnectionError, OSError):
                self.conn.close()
                self.conn = None
                if attempt == 2:
                    raise
                time.sleep(0.05)


client = Client()


def post_error(path, err):
    sys.stderr.write("[ERROR] %s: %s\n" % (err["errorType"], err["errorMessage"]))
    for line in err.get("stackTrace") or []:
        sys.stderr.write(line if line.endswith("\n") else line + "\n")
    body = json.dumps(err).encode()
    client.call("POST", path, body, {
        "Content-Type": "application/json",
        "Lambda-Runtime-Function-Error-Type": err["errorType"],
    })


def to_error(exc, error_type=None):
    return {
        "errorType": error_type or type(exc).__name__,
        "errorMessage": str(exc),
        "stackTrace": traceback.format_list(traceback.extract_tb(exc.__traceback__)),
    }


def load_handler():
    handler = os.environ.get("_HANDLER", "")
    root = os.environ.get("LAMBDA_TASK_ROOT") or os.getcwd()
    mod_path, _, fn_name = handler.rpartition(".")
    if not mod_path or not fn_name:
        raise HandlerError("Runtime.MalformedHandlerName",
                           "Bad handler '%s': expected 'path/file.function'" % handler)
    if root not in sys.path:
        sys.path.insert(0, root)
    module_name = mod_path.replace("/", ".").strip(".")
    try:
        module = importlib.import_module(module_name)
    except SyntaxError as e:
        raise HandlerError("Runtime.UserCodeSyntaxError",
                           "Syntax error in module '%s': %s" % (module_name, e), e)
    except ImportError as e:
        raise HandlerError("Runtime.ImportModuleError",
                           "Unable to import module '%s': %s" % (module_name, e), e)
    fn = getattr(module, fn_name, None)
    if not callable(fn):
        raise HandlerError("Runtime.HandlerNotFound",
                           "Handler '%s' missing on module '%s'" % (fn_name, module_name))
    return fn


class HandlerError(Exception):
    def __init__(self, error_type, message, cause=None):
        super().__init__(message)
        self.error_type = error_type
        self.cause = cause


class Context(dict):
    """The invocation context: Lambda's attributes, and SCF's keys as a dict."""

    def __init__(self, headers):
        env = os.environ
        rid = headers.get("Lambda-Runtime-Aws-Request-Id", "")
        memory = int(env.get("AWS_LAMBDA_FUNCTION_MEMORY_SIZE", "0") or 0)
        super().__init__(
            request_id=rid,
            function_name=env.get("SCF_FUNCTIONNAME", ""),
            function_version=env.get("SCF_FUNCTIONVERSION", ""),
            namespace=env.get("SCF_NAMESPACE", ""),
            memory_limit_in_mb=memory,
            time_limit_in_ms=int(headers.get("time_limit_in_ms", "0") or 0),
            tencentcloud_region=env.get("TENCENTCLOUD_REGION", ""),
        )
        self.aws_request_id = rid
        self.request_id = rid
        self.function_name = env.get("AWS_LAMBDA_FUNCTION_NAME", "")
        self.function_version = env.get("AWS_LAMBDA_FUNCTION_VERSION", "")
        self.memory_limit_in_mb = memory
        self.invoked_function_arn = headers.get("Lambda-Runtime-Invoked-Function-Arn", "")
        self.log_group_name = env.get("AWS_LAMBDA_LOG_GROUP_NAME", "")
        self.log_stream_name = env.get("AWS_LAMBDA_LOG_STREAM_NAME", "")
        self.identity = None
        self.client_context = None
        self._deadline_ms = int(headers.get("Lambda-Runtime-Deadline-Ms", "0") or 0)

    def get_remaining_time_in_millis(self):
        return max(0, self._deadline_ms - int(time.time() * 1000))


def main():
    try:
        fn = load_handler()
    except HandlerError as e:
        err = {"errorType": e.error_type, "errorMessage": str(e), "stackTrace": []}
        if e.cause is not None:
            err["stackTrace"] = traceback.format_exception_only(type(e.cause), e.cause)
        post_error("/init/error", err)
        sys.exit(1)
    except Exception as e:  # the module raised while being imported
        post_error("/init/error", to_error(e))
        sys.exit(1)

    while True:
        status, headers, body = client.call("GET", "/invocation/next")
        if status != 200:
            raise RuntimeError("runtime API /next answered %d" % status)
        rid = headers.get("Lambda-Runtime-Aws-Request-Id", "")
        try:
            event = json.loads(body) if body else {}
        except ValueError as e:
            post_error("/invocation/%s/error" % rid, to_error(e, "Runtime.UnmarshalError"))
            continue
        try:
            result = fn(event, Context(headers))
            if inspect.isawaitable(result):
                result = asyncio.run(_await(result))
        except Exception as e:
            post_error("/invocation/%s/error" % rid, to_error(e))
            continue
        try:
            out = json.dumps(result).encode()
        except (TypeError, ValueError) as e:
            post_error("/invocation/%s/error" % rid, to_error(e, "Runtime.MarshalError"))
            continue
        client.call("POST", "/invocation/%s/response" % rid, out, {"Content-Type": "application/json"})


async def _await(aw):
    return await aw


if __name__ == "__main__":
    main()
