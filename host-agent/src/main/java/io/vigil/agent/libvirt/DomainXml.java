package io.vigil.agent.libvirt;

import java.io.StringReader;
import java.util.Optional;
import javax.xml.XMLConstants;
import javax.xml.parsers.DocumentBuilderFactory;
import org.w3c.dom.Document;
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
        return parse(xml).flatMap(root -> child(root, "name")).map(e -> e.getTextContent().strip());
    }

    /** The {@code <uuid>} of {@code xml}, if it has one. */
    public static Optional<String> uuid(String xml) {
        return parse(xml).flatMap(root -> child(root, "uuid")).map(e -> e.getTextContent().strip());
    }

    /**
     * {@code xml} with {@code <uuid>} set to {@code uuid} when it has none: redefining an existing domain from XML
     * without a UUID would otherwise make libvirt refuse it ("already exists with uuid ...").
     */
    public static String withUuid(String xml, String uuid) {
        Optional<Element> parsed = parse(xml);
        if (parsed.isEmpty() || child(parsed.get(), "uuid").isPresent()) return xml;
        Element root = parsed.get();
        Element u = root.getOwnerDocument().createElement("uuid");
        u.setTextContent(uuid);
        root.insertBefore(u, child(root, "name").map(Node::getNextSibling).orElse(root.getFirstChild()));
        return print(root.getOwnerDocument());
    }

    /** {@code doc} as XML text, without an XML declaration. */
    public static String print(Document doc) {
        try {
            var t = javax.xml.transform.TransformerFactory.newInstance().newTransformer();
            t.setOutputProperty(javax.xml.transform.OutputKeys.OMIT_XML_DECLARATION, "yes");
            var out = new java.io.StringWriter();
            t.transform(new javax.xml.transform.dom.DOMSource(doc), new javax.xml.transform.stream.StreamResult(out));
            return out.toString();
        } catch (javax.xml.transform.TransformerException e) {
            throw new IllegalStateException("cannot print a parsed domain XML", e);
        }
    }

    /**
     * {@code xml} parsed, if it is a {@code <domain>} document; empty if it cannot be parsed (libvirt will then refuse
     * it with its own message). DTDs and external entities are refused.
     */
    public static Optional<Document> document(String xml) {
        return parse(xml, "domain").map(Element::getOwnerDocument);
    }

    /** Another libvirt document ({@code <capabilities>}, say) whose root element is {@code rootTag}, parsed alike. */
    public static Optional<Document> document(String xml, String rootTag) {
        return parse(xml, rootTag).map(Element::getOwnerDocument);
    }

    /** The first child element of {@code root} named {@code tag}. */
    public static Optional<Element> child(Element root, String tag) {
        for (Node n = root.getFirstChild(); n != null; n = n.getNextSibling()) {
            if (n instanceof Element e && tag.equals(e.getTagName())) return Optional.of(e);
        }
        return Optional.empty();
    }

    private static Optional<Element> parse(String xml) {
        return parse(xml, "domain");
    }

    private static Optional<Element> parse(String xml, String rootTag) {
        try {
            DocumentBuilderFactory f = DocumentBuilderFactory.newInstance();
            f.setFeature("http://apache.org/xml/features/disallow-doctype-decl", true);
            f.setFeature(XMLConstants.FEATURE_SECURE_PROCESSING, true);
            f.setExpandEntityReferences(false);
            var builder = f.newDocumentBuilder();
            builder.setErrorHandler(new org.xml.sax.helpers.DefaultHandler()); // no stderr noise
            Element root = builder.parse(new InputSource(new StringReader(xml))).getDocumentElement();
            return rootTag.equals(root.getTagName()) ? Optional.of(root) : Optional.empty();
        } catch (Exception e) {
            return Optional.empty();
        }
    }
}
