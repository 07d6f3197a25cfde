//! Attachments: documents and photos on projects and approval steps.
