// AdmissionReview bodies as the webhook receives them: `AdmissionReview(parsing:)`, then the
// whole decision path (`AdmissionController.review`, with a fixed policy set and no registry)
// and the reply (`replyData()`), as AdmissionServer.review does for each POST; and the same
// decision through `reviewImmediately`, the warm path answered on the event loop.
import Foundation
import FuzzSupport
import SignetPrimitives
import Logging
import SignetAdmission
import SignetPolicy

let quiet = Logger(label: "fuzz", factory: { _ in SwiftLogNoOpLogHandler() })

/// Policies that read most of a request: patterns with quantities and durations, anchors,
/// deny conditions over the request, a verifyImages rule (no verifier: reported as an error).
let policyYAML = #"""
apiVersion: kyverno.io/v1
kind: ClusterPolicy
metadata:
  name: limits
spec:
  validationFailureAction: Enforce
  background: false
  rules:
  - name: memory-cpu
    match:
      any:
      - resources:
          kinds: [Pod]
    validate:
      message: "limits"
      pattern:
        spec:
          containers:
          - name: "*"
            image: "!*:latest"
            =(securityContext):
              =(runAsNonRoot): true
            resources:
              limits:
                memory: "<=2Gi & >1Mi"
                cpu: "1m-4"
  - name: labels
    match:
      any:
      - resources:
          kinds: [Deployment, StatefulSet]
          operations: [CREATE, UPDATE]
    validate:
      anyPattern:
      - metadata:
          labels:
            app: "?*"
      - metadata:
          annotations:
            ttl: "<24h"
---
apiVersion: kyverno.io/v1
kind: ClusterPolicy
metadata:
  name: deny-delete
spec:
  validationFailureAction: Audit
  rules:
  - name: no-delete
    match:
      any:
      - resources:
          kinds: ["*"]
          namespaces: ["prod-*"]
    exclude:
      any:
      - subjects:
        - kind: Group
          name: "system:masters"
    validate:
      message: "deleting {{request.object.metadata.name}} is not allowed"
      deny:
        conditions:
          any:
          - key: "{{request.operation}}"
            operator: Equals
            value: DELETE
---
apiVersion: kyverno.io/v1
kind: ClusterPolicy
metadata:
  name: signed
spec:
  validationFailureAction: Enforce
  webhookTimeoutSeconds: 10
  rules:
  - name: verify
    match:
      any:
      - resources:
          kinds: [Pod]
    verifyImages:
    - imageReferences: ["registry.example.com/*"]
      mutateDigest: true
      attestors:
      - entries:
        - keys:
            publicKeys: |-
              -----BEGIN PUBLIC KEY-----
              MFkwEwYHKoZIzj0CAQYIKoZIzj0DAQcDQgAEH8YakVeq6hwREqu2unLfi2NdfH2R
              tkL+mmB6aFfe6XUUwT3fCNbohTJinc/aXHZyo51yEH3Rqtp4Z93jUgvs0w==
              -----END PUBLIC KEY-----
"""#

let controller: AdmissionController = {
    let loaded: PolicyLoader.Result
    do { loaded = try PolicyLoader().load(yaml: policyYAML) } catch { fatalError("fixed policies do not load: \(error)") }
    let set = PolicySet(policies: loaded.policies.map { LoadedPolicy(policy: $0, version: "fuzz") })
    return AdmissionController(policies: PolicyStore(fixed: set), verification: nil, metrics: AdmissionMetrics(),
                               violations: ViolationStore(capacity: 16), logger: quiet)
}()

@_cdecl("FuzzAdmissionReview_main")
public func main(_ argc: CInt, _ argv: UnsafeMutablePointer<UnsafeMutablePointer<CChar>?>?) -> CInt { Fuzz.main(argc, argv) }

@_cdecl("LLVMFuzzerTestOneInput")
public func fuzz(_ data: UnsafePointer<UInt8>, _ size: Int) -> CInt {
    let bytes = Fuzz.bytes(data, size)
    if Fuzz.knownTrap(bytes) { return -1 }
    guard let review = try? AdmissionReview(parsing: Data(bytes)), let request = review.request else { return 0 }
    _ = request.resourceName
    let phase: AdmissionPhase = size % 2 == 0 ? .validate : .mutate
    let group: PolicyGroup = size % 3 == 0 ? .all : (size % 3 == 1 ? .fail : .ignore)
    let reply = Fuzz.blocking {
        await controller.review(request, phase: phase, group: group, deadline: .now + .seconds(5))
    }
    // The warm path (ImmediateReviewHandler) answers exactly as the full pipeline does.
    if let immediate = controller.reviewImmediately(request, phase: phase, group: group) {
        Fuzz.invariant(immediate == reply, "the immediate answer differs from the full one")
    }
    guard let out = try? AdmissionReview.reply(reply).replyData() else {
        Fuzz.invariant(false, "reply does not encode")
        return 0
    }
    Fuzz.invariant((try? JSONValue(json: out)) != nil, "reply is not JSON")
    return 0
}
