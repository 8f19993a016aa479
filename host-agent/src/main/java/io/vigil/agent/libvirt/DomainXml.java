package io.vigil.agent.libvirt;

import java.io.StringReader;
import java.util.Optional;
import javax.xml.XMLConstants;
import javax.xml.parsers.DocumentBuilderFactory;
import org.w3c.dom.Element;
import org.w3c.dom.Node;
import org.xml.sax.InputSource;

/** Reads what the agent must check in a domain XML before handing it to libvirt. */
public final class DomainXml {
    private DomainXml() {}

    /**
     * The {@code <domain><name>} of {@code xml}, or empty if the document cannot be parsed (libvirt will then
     * refuse it with its own message) or has no name. DTDs and external entities are refused.
     */
    public static Optional<String> name(String xml) {
        try {
            DocumentBuilderFactory f = DocumentBuilderFactory.newInstance();
            f.setFeature("http://apache.org/xml/features/disallow-doctype-decl", true);
            f.setFeature(XMLConstants.FEATURE_SECURE_PROCESSING, true);
            f.setExpandEntityReferences(false);
            var builder = f.newDocumentBuilder();
            builder.setErrorHandler(new org.xml.sax.helpers.DefaultHandler()); // no stderr noise
            Element root = builder.parse(new InputSource(new StringReader(xml))).getDocumentElement();
            if (!"domain".equals(root.getTagName())) return Optional.empty();
            for (Node n = root.getFirstChild(); n != null; n = n.getNextSibling()) {
                if (n instanceof Element e && "name".equals(e.getTagName())) return Optional.of(e.getTextContent().strip());
            }
            return Optional.empty();
        } catch (Exception e) {
            return Optional.empty();
        }
    }
}
