import Foundation
import SignetPolicy
import Testing
@testable import SignetAdmission

/// `AdmissionDecision.decide` is pure: same request, policies and results, same answer.
@Suite("Decision function")
struct AdmissionDecisionTests {
    static func engine(_ yaml: String, _ request: AdmissionRequest) throws -> EngineResponse {
        let policies = try PolicyLoader().load(yaml: yaml).policies
        return PolicyEngine(policies: policies).validate(request.object!, admission: AdmissionInfo(operation: .create))
    }

    static let enforceTeam = TestPolicies.requireTeamLabel.replacingOccurrences(of: "validationFailureAction: Audit", with: "validationFailureAction: Enforce")

    @Test func enforceFailureDeniesWithTheEnvelope() throws {
        var b = AdmissionRequestBuilder()
        b.namespace = "ns"
        b.name = "nolabel"
        let request = b.request
        let decision = AdmissionDecision.decide(request: request, phase: .validate, engine: try Self.engine(Self.enforceTeam, request))
        #expect(decision.response.allowed == false)
        #expect(decision.response.uid == request.uid)
        #expect(decision.response.status?.code == 403)
        #expect(decision.response.status?.message == """


            resource Pod/ns/nolabel was blocked due to the following policies 

            require-team:
              check-team: 'validation error: label team is required. rule check-team failed at path /metadata/labels/team/'

            """)
        #expect(decision.violations.map(\.action) == ["Enforce"])
        #expect(decision.ruleResults == [.init(policy: "require-team", rule: "check-team", result: "fail")])
    }

    @Test func auditFailureAllowsWithAWarning() throws {
        let request = AdmissionRequestBuilder().request
        let decision = AdmissionDecision.decide(request: request, phase: .validate, engine: try Self.engine(TestPolicies.requireTeamLabel, request))
        #expect(decision.response.allowed == true)
        #expect(decision.response.warnings == ["policy require-team.check-team: validation error: label team is required. rule check-team failed at path /metadata/labels/team/"])
        #expect(decision.response.patch == nil)
        #expect(decision.violations.first?.result == "fail")
    }

    @Test func passingResourceIsAllowedQuietly() throws {
        var b = AdmissionRequestBuilder()
        b.labels = ["team": "x"]
        let request = b.request
        let decision = AdmissionDecision.decide(request: request, phase: .validate, engine: try Self.engine(Self.enforceTeam, request))
        #expect(decision.response == AdmissionResponse(uid: request.uid, allowed: true))
        #expect(decision.violations.isEmpty)
    }

    @Test func mutatePhaseIgnoresValidateRules() throws {
        let request = AdmissionRequestBuilder().request
        let decision = AdmissionDecision.decide(request: request, phase: .mutate, engine: try Self.engine(Self.enforceTeam, request))
        #expect(decision.response.allowed == true)
        #expect(decision.ruleResults.isEmpty)
    }
}
