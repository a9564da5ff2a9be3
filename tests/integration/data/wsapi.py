# wsapi.py - what wscheck.py and wshar.py share: the API called with the token, a count of
# problems, and the conversations wsconv.py wrote (OUTDIR/sock-*.json).
import glob, json, os, urllib.request


class Checker:
    def __init__(self, web, token):
        self.web, self.token, self.bad = web, token, 0

    def call(self, path, data=None):
        """GET path (POST data when given) on the API; the answer's JSON."""
        rq = urllib.request.Request("http://127.0.0.1:%s%s" % (self.web, path), data=data,
                                    headers={"Authorization": "Bearer " + self.token,
                                             "Content-Type": "application/json",
                                             "Origin": "http://127.0.0.1:%s" % self.web})
        with urllib.request.urlopen(rq, timeout=60) as r:
            return json.load(r)

    def fail(self, msg):
        self.bad += 1
        print(msg)


def conversations(out):
    """Each socket's record: {"path", "deflate", "messages", "close"}, in file order."""
    return [json.load(open(fn)) for fn in sorted(glob.glob(os.path.join(out, "sock-*.json")))]
