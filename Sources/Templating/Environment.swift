/// Where a template runs: what it may reach (`hooks`) and the rules Jinja leaves to the
/// application that embeds it. `TemplateEnvironment()` is Jinja's own behaviour; a host sets its
/// rules here — Ansible's are configured by the Provisioning layer, and nothing in this module
/// knows them.
public struct TemplateEnvironment: Sendable {
    /// Lookups, password hashing, `{% include %}`.
    public var hooks: TemplateHooks
    /// Jinja's `finalize`: whether `None` prints as nothing (else as `None`, as Jinja prints it).
    public var printsNoneAsNothing = false
    /// Whether the output ends with as many newlines as the source (else Jinja's
    /// keep_trailing_newline off: one final newline dropped).
    public var keepsTrailingNewlines = false
    /// Jinja's native rendering for `evaluate`: a template whose only output is one `{{ }}` gives
    /// that expression's value (a number, a list, None…); else `evaluate` gives the text.
    public var nativeValues = false
    /// Whether a condition must give a boolean (an error otherwise); else any value counts by
    /// its truth, as Jinja's `if`.
    public var booleanConditions = false

    public init(hooks: TemplateHooks = TemplateHooks(), printsNoneAsNothing: Bool = false, keepsTrailingNewlines: Bool = false,
                nativeValues: Bool = false, booleanConditions: Bool = false) {
        self.hooks = hooks
        self.printsNoneAsNothing = printsNoneAsNothing
        self.keepsTrailingNewlines = keepsTrailingNewlines
        self.nativeValues = nativeValues
        self.booleanConditions = booleanConditions
    }
}
