//! What a submission's Results documents tell the rules that look at the whole
//! submission, when the records of large tables are not kept: the documents, whole, or
//! the header of a streamed one.

use crate::parse::tree::NodeRef;

use super::Submission;

/// A Results document of a submission.
#[derive(Debug, Clone)]
pub struct ResultsDocument {
    /// The document; for a streamed table, its header only (department, year, task).
    pub node: NodeRef,
    /// Whether its records were streamed (and are not kept).
    pub streamed: bool,
}

/// The Results documents of a submission, in order.
#[derive(Debug, Default)]
pub struct ResultsDigest {
    pub documents: Vec<ResultsDocument>,
}

impl ResultsDigest {
    /// The digest of the Results documents the submission holds (not streamed ones).
    pub fn of_documents(sub: &Submission) -> ResultsDigest {
        ResultsDigest {
            documents: sub
                .of_kind("Results")
                .map(|doc| ResultsDocument {
                    node: NodeRef::root(&doc.tree),
                    streamed: false,
                })
                .collect(),
        }
    }

    /// The digest of a submission (computed once).
    pub fn of(sub: &Submission) -> &ResultsDigest {
        sub.digest.get_or_init(|| ResultsDigest::of_documents(sub))
    }

    /// The task ids Results documents name.
    pub fn tasks_named(&self) -> impl Iterator<Item = &str> {
        self.documents
            .iter()
            .filter_map(|d| d.node.tree.str_at(d.node.id, "task"))
    }

    /// The first Results document, where a finding about all results is shown.
    pub fn first(&self) -> Option<&NodeRef> {
        self.documents.first().map(|d| &d.node)
    }
}
