"""Authorization and identity reviews: ``kubectl auth can-i`` and ``kubectl auth whoami``.

The lab has one user, the admin whose token is in the kubeconfig, as kind's ``kubernetes-admin``
is (group ``kubeadm:cluster-admins``, bound to ClusterRole ``cluster-admin``). So every review
says yes, with the reason RBAC gives that user on kind. These kinds are created, never stored:
the answer is the request with a ``status`` (``pkg/registry/authorization/selfsubjectaccessreview/
rest.go``, ``.../selfsubjectrulesreview/rest.go``, ``pkg/registry/authentication/selfsubjectreview``).

Lab departure: impersonation (``--as``) is not honoured by the lab's API at all, so a review
with ``--as=alice`` answers for the admin too.
"""
from __future__ import annotations

import copy

from . import protobuf, status

USER = {"username": "kubernetes-admin", "groups": ["kubeadm:cluster-admins",
                                                    "system:authenticated"]}
REASON = ('RBAC: allowed by ClusterRoleBinding "kubeadm:cluster-admins" of ClusterRole '
          '"cluster-admin" to Group "kubeadm:cluster-admins"')

# k8s.io/api authorization/v1 and authentication/v1 generated.proto (v0.32.0): kubectl auth
# can-i POSTs these as protobuf.
S = protobuf.S
protobuf.SCHEMAS.update({
    "SelfSubjectAccessReview": {1: ("metadata", "ObjectMeta", False),
                                2: ("spec", "SelfSubjectAccessReviewSpec", False),
                                3: ("status", "Status", False)},
    "SelfSubjectAccessReviewSpec": {1: ("resourceAttributes", "ResourceAttributes", False),
                                    2: ("nonResourceAttributes", "NonResourceAttributes", False)},
    "ResourceAttributes": {1: ("namespace", S, False), 2: ("verb", S, False),
                           3: ("group", S, False), 4: ("version", S, False),
                           5: ("resource", S, False), 6: ("subresource", S, False),
                           7: ("name", S, False)},
    "NonResourceAttributes": {1: ("path", S, False), 2: ("verb", S, False)},
    "SelfSubjectRulesReview": {1: ("metadata", "ObjectMeta", False),
                               2: ("spec", "SelfSubjectRulesReviewSpec", False),
                               3: ("status", "Status", False)},
    "SelfSubjectRulesReviewSpec": {1: ("namespace", S, False)},
    "SelfSubjectReview": {1: ("metadata", "ObjectMeta", False), 2: ("status", "Status", False)},
})


def _answer(body: object, kind: str, api_version: str) -> dict:
    if not isinstance(body, dict):
        raise status.bad_request("api.bad_body", error="expected an object")
    out = copy.deepcopy(body)
    out["kind"], out["apiVersion"] = kind, api_version
    meta = out.get("metadata") or {}
    meta.setdefault("creationTimestamp", None)
    out["metadata"] = meta
    return out


def access_review(body: object) -> dict:
    out = _answer(body, "SelfSubjectAccessReview", "authorization.k8s.io/v1")
    spec = out.get("spec") or {}
    if not spec.get("resourceAttributes") and not spec.get("nonResourceAttributes"):
        raise status.invalid("SelfSubjectAccessReview", "authorization.k8s.io", "", [status.cause(
            "spec.resourceAttributes", "cause.required")])
    out["status"] = {"allowed": True, "reason": REASON}
    return out


def rules_review(body: object) -> dict:
    out = _answer(body, "SelfSubjectRulesReview", "authorization.k8s.io/v1")
    out["status"] = {
        "resourceRules": [{"verbs": ["*"], "apiGroups": ["*"], "resources": ["*"]},
                          {"verbs": ["create"], "apiGroups": ["authorization.k8s.io"],
                           "resources": ["selfsubjectaccessreviews",
                                         "selfsubjectrulesreviews"]}],
        "nonResourceRules": [{"verbs": ["*"], "nonResourceURLs": ["*"]}],
        "incomplete": False}
    return out


def self_review(body: object) -> dict:
    out = _answer(body or {}, "SelfSubjectReview", "authentication.k8s.io/v1")
    out["status"] = {"userInfo": copy.deepcopy(USER)}
    return out


# resource key -> what a POST answers (the kinds are declared in resources.py, create only)
REVIEWS = {
    "authorization.k8s.io/selfsubjectaccessreviews": access_review,
    "authorization.k8s.io/selfsubjectrulesreviews": rules_review,
    "authentication.k8s.io/selfsubjectreviews": self_review,
}
