import Foundation

/// The e-mails a problem's steps send, in French: technicians when a problem arrives, the
/// commune's accounts when it is taken in charge and when it is closed.
public enum ProblemNotice: Sendable, Equatable {
    case reported, accepted, closed

    /// The subject and the text (the sender adds the portal's page at the end); `memberName` is
    /// the commune's name ("Norroy-le-Veneur"), not its slug.
    public static func text(_ step: ProblemNotice, _ p: Problem, memberName: String? = nil) -> (subject: String, body: String) {
        let device = "\(p.device) (n° de série \(p.serial))"
        switch step {
        case .reported:
            return ("Nouveau signalement n° \(p.id) : \(p.kind.french) — \(p.device)",
                    """
                    Bonjour,

                    Un nouveau signalement attend d'être pris en charge.

                    Matériel : \(device)
                    Commune : \(memberName ?? p.member ?? "—")
                    Problème : \(p.kind.french)
                    Description : \(p.description)
                    Personne à rappeler : \(p.contactName) — \(p.contactPhone)
                    """)
        case .accepted:
            return ("Votre signalement n° \(p.id) est pris en charge",
                    """
                    Bonjour,

                    Votre signalement n° \(p.id) sur le matériel \(device) est pris en charge par un technicien : \
                    le matériel est en réparation. Vous suivez son avancement sur le portail.
                    """)
        case .closed:
            return ("Votre signalement n° \(p.id) est clos",
                    """
                    Bonjour,

                    Votre signalement n° \(p.id) sur le matériel \(device) est clos.

                    Ce qui a été fait : \(p.resolution ?? "—")
                    Le matériel : \(p.outcome?.french ?? ProblemOutcome.unchanged.french)
                    """)
        }
    }
}
