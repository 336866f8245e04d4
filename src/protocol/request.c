#include "protocol/request.h"

#include <limits.h>
#include <math.h>
#include <string.h>

#include "util/numbers.h"

bool request_ll_msg(struct request *req, int i, long long *out, const char *msg)
{
    if (parse_ll(req->argv[i].ptr, req->argv[i].len, out)) return true;
    reply_error(req->out, msg ? msg : ERR_NOT_INTEGER);
    return false;
}

bool request_ll(struct request *req, int i, long long *out)
{
    return request_ll_msg(req, i, out, NULL);
}

bool request_ll_range(struct request *req, int i, long long min, long long max, long long *out, const char *msg)
{
    long long v;
    if (!parse_ll(req->argv[i].ptr, req->argv[i].len, &v) || v < min || v > max) {
        reply_error(req->out, msg ? msg : ERR_NOT_INTEGER);
        return false;
    }
    *out = v;
    return true;
}

bool request_double(struct request *req, int i, double *out)
{
    if (parse_double(req->argv[i].ptr, req->argv[i].len, out)) return true;
    reply_error(req->out, ERR_NOT_FLOAT);
    return false;
}

bool request_timeout_ms(struct request *req, int i, long long *out_ms, bool in_seconds)
{
    long double v;
    const char *not_number = in_seconds ? "ERR timeout is not a float or out of range"
                                        : "ERR timeout is not an integer or out of range";
    long long ll;
    if (in_seconds) {
        if (!parse_ld(req->argv[i].ptr, req->argv[i].len, &v) || isinf(v)) {
            reply_error(req->out, not_number);
            return false;
        }
        v *= 1000;
    } else {
        if (!parse_ll(req->argv[i].ptr, req->argv[i].len, &ll)) {
            reply_error(req->out, not_number);
            return false;
        }
        v = ll;
    }
    if (v < 0) {
        reply_error(req->out, "ERR timeout is negative");
        return false;
    }
    if (v > 9.2e15) {
        reply_error(req->out, "ERR timeout is out of range");
        return false;
    }
    *out_ms = (long long)ceill(v);
    return true;
}

bool request_mpop_keys(struct request *req, int index, int *first_key, int *numkeys)
{
    long long n;
    if (!request_ll_range(req, index, 1, LLONG_MAX, &n, "ERR numkeys should be greater than 0")) return false;
    if (n >= req->argc - index - 1) {
        reply_syntax_error(req->out);
        return false;
    }
    *first_key = index + 1;
    *numkeys = (int)n;
    return true;
}

bool request_mpop_count(struct request *req, int first, long long *count)
{
    *count = -1;
    for (int j = first; j < req->argc; j++) {
        if (*count == -1 && ARG_IS(req, j, "COUNT") && j + 1 < req->argc) {
            if (!request_ll_range(req, ++j, 1, LLONG_MAX, count, "ERR count should be greater than 0")) return false;
        } else {
            reply_syntax_error(req->out);
            return false;
        }
    }
    if (*count == -1) *count = 1;
    return true;
}

void reply_wrong_type(struct outbuf *o)
{
    reply_error(o, ERR_WRONGTYPE);
}

void reply_syntax_error(struct outbuf *o)
{
    reply_error(o, ERR_SYNTAX);
}

void reply_wrong_arity(struct outbuf *o, const char *command)
{
    reply_errorf(o, "ERR wrong number of arguments for '%s' command", command);
}
