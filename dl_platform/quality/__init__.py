"""Asset checks on sources and linkage, linkage-quality and governance reports."""
