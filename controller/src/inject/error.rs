//! Why a pod cannot be injected.

/// Why a pod cannot be injected.
#[derive(Debug, thiserror::Error)]
pub enum InjectError {
    /// An annotation asks for something impossible (the message names it).
    #[error("annotation {0}")]
    Annotation(String),
    /// The pod itself does not allow it.
    #[error("the pod {0}")]
    Pod(String),
    /// The generated routes file would be refused by wsgate.
    #[error("the generated routes file is invalid: {0}")]
    Routes(String),
    /// The input is not YAML.
    #[error("cannot read the input: {0}")]
    Input(String),
    /// An error in one document.
    #[error("{document}: {source}")]
    Document {
        /// `Deployment chat (document 2)`.
        document: String,
        /// What went wrong.
        source: Box<InjectError>,
    },
}
