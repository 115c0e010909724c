import Foundation
import SignetPolicy
import Testing
@testable import SignetAdmission

@Suite("DELETE and CONNECT requests")
struct AdmissionOperationTests {
    static let noExecTTY = """
        apiVersion: kyverno.io/v1
        kind: ClusterPolicy
        metadata:
          name: no-exec-tty
        spec:
          validationFailureAction: Enforce
          rules:
            - name: no-tty
              match:
                any:
                  - resources:
                      kinds: [Pod/exec]
              validate:
                message: "interactive exec is not allowed"
                pattern:
                  tty: false
        """

    static let denyDeletes = """
        apiVersion: kyverno.io/v1
        kind: ClusterPolicy
        metadata:
          name: keep-pods
        spec:
          validationFailureAction: Enforce
          rules:
            - name: no-delete
              match:
                any:
                  - resources:
                      kinds: [Pod]
                      operations: [DELETE]
              validate:
                message: "pods are kept"
                deny: {}
        """

    static func review(operation: String, subResource: String? = nil, kind: String = "Pod", object: String?, oldObject: String?) throws -> AdmissionRequest {
        var request = """
            {"uid":"u-\(operation)","kind":{"group":"","version":"v1","kind":"\(kind)"},
             "resource":{"group":"","version":"v1","resource":"pods"},
            """
        if let subResource { request += "\"subResource\":\"\(subResource)\"," }
        request += """
             "name":"web","namespace":"default","operation":"\(operation)",
             "userInfo":{"username":"alice"},"object":\(object ?? "null"),"oldObject":\(oldObject ?? "null")}
            """
        let text = "{\"apiVersion\":\"admission.k8s.io/v1\",\"kind\":\"AdmissionReview\",\"request\":\(request)}"
        return try #require(try AdmissionReview(parsing: Data(text.utf8)).request)
    }

    static let pod = #"{"apiVersion":"v1","kind":"Pod","metadata":{"name":"web","namespace":"default"},"spec":{"containers":[{"name":"c","image":"nginx"}]}}"#

    @Test func connectIsValidatedOnItsOptionsObjectByTheParentKind() async throws {
        let controller = try ClusterContextAdmissionTests.controller([Self.noExecTTY], cluster: nil)
        let tty = #"{"apiVersion":"v1","kind":"PodExecOptions","stdin":true,"tty":true,"container":"c","command":["sh"]}"#
        let denied = await controller.review(try Self.review(operation: "CONNECT", subResource: "exec", kind: "PodExecOptions", object: tty, oldObject: nil),
                                             phase: .validate, deadline: .now + .seconds(5))
        #expect(denied.allowed == false)
        #expect(denied.status?.message?.contains("interactive exec is not allowed") == true)
        let plain = tty.replacingOccurrences(of: #""tty":true"#, with: #""tty":false"#)
        #expect(await controller.review(try Self.review(operation: "CONNECT", subResource: "exec", kind: "PodExecOptions", object: plain, oldObject: nil),
                                        phase: .validate, deadline: .now + .seconds(5)).allowed)
        // pods/attach is another subresource: the rule does not match.
        #expect(await controller.review(try Self.review(operation: "CONNECT", subResource: "attach", kind: "PodAttachOptions", object: tty, oldObject: nil),
                                        phase: .validate, deadline: .now + .seconds(5)).allowed)
    }

    @Test func deleteSkipsPatternsButEvaluatesDenyRules() async throws {
        // A pattern rule on DELETE: skipped, as Kyverno's validate handler does.
        let patterns = try ClusterContextAdmissionTests.controller([TestPolicies.requireTeamLabel], cluster: nil)
        #expect(await patterns.review(try Self.review(operation: "DELETE", object: nil, oldObject: Self.pod),
                                      phase: .validate, deadline: .now + .seconds(5)).allowed)
        // A deny rule matching DELETE is evaluated (on the old object), as in Kyverno: the deletion is denied.
        let deny = try ClusterContextAdmissionTests.controller([Self.denyDeletes], cluster: nil)
        let response = await deny.review(try Self.review(operation: "DELETE", object: nil, oldObject: Self.pod),
                                         phase: .validate, deadline: .now + .seconds(5))
        #expect(response.allowed == false)
        #expect(response.status?.message?.contains("pods are kept") == true, "\(response.status?.message ?? "")")
        // The same policy does not match a CREATE.
        #expect(await deny.review(try Self.review(operation: "CREATE", object: Self.pod, oldObject: nil),
                                  phase: .validate, deadline: .now + .seconds(5)).allowed)
    }
}
