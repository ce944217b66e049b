import Testing
import TowerDomain

@Suite struct VocabularyTests {
    @Test func everyStateAndGateHasOneWordAndAShortFormNoWider() {
        let words = Vocabulary.terms.map(\.word)
        #expect(Set(words).count == words.count, "one word, one meaning: \(words)")
        #expect(Vocabulary.word(EndpointState.outOfService) == "out of service")
        #expect(Vocabulary.word(VersionState.draining) == "draining" && Vocabulary.word(VersionState.drained) == "drained")
        for t in Vocabulary.terms { #expect(t.short.count <= t.word.count && t.short.count <= 8, "\(t)") }
    }

    /// The check the surfaces' tests rely on catches the spellings the surfaces used before.
    @Test func strayWordsCatchesOtherSpellings() {
        #expect(Vocabulary.strayWords(in: "✓ serve  … drain  ✗ OUT  shift v2 !OVR  OUT OF SERVICE  OVERRIDE  v2 (out-of-service)")
                == ["serve", "drain", "OUT", "OVR", "OUT", "SERVICE", "OVERRIDE", "out-of-service"])
        #expect(Vocabulary.strayWords(in: "✓ serving  … draining  ✗ out  v3 drained  out of service  gate pending, failed, passed  !ovr override").isEmpty)
    }

    @Test func actorsAreWrittenWithTheirRoleWhereItIsKnown() {
        #expect(Vocabulary.actor("otto", role: .operator) == "otto (operator)")
        #expect(Vocabulary.actor("otto") == "otto")
        #expect(Vocabulary.rolloutActor(7) == "rollout:7" && Vocabulary.isRollout("rollout:7") && !Vocabulary.isRollout("otto"))
    }
}
